import pytest

from aptic_catalog.models import Level, ReferentialVersion, Service, Subcategory, Theme
from aptic_catalog.services import (
    BUNDLED_FILE,
    ReferentialImportError,
    ensure_referential_loaded,
    import_referential,
)
from passnum.audit.models import AuditLog
from passnum.errors import DomainError
from tests.aptic_catalog.helpers import as_csv, bundled_lines, replace_cell

HEADER = "code,title,level,level_title,subcategory,subcategory_title,theme_code,theme_title"


def test_bundled_file_is_the_shared_reference_copy():
    assert BUNDLED_FILE.read_bytes().startswith(HEADER.encode())
    assert len(bundled_lines()) == 130


@pytest.mark.django_db
def test_bundled_file_imports_the_whole_referential(django_user_model):
    operator = django_user_model.objects.create_user(email="ops@example.org", password="x-long-password-1")

    version = import_referential(BUNDLED_FILE, source_name="aptic_services.csv", imported_by=operator, note="init")

    assert Level.objects.count() == 3
    assert Subcategory.objects.count() == 9
    assert Service.objects.count() == 129
    assert Service.objects.filter(is_active=True).count() == 129
    assert Theme.objects.count() == 8
    assert ReferentialVersion.objects.count() == 1
    assert version.number == 1
    assert version.imported_by == operator
    assert version.row_count == 129
    assert len(version.sha256) == 64
    assert version.rows[0]["code"] == 1
    assert version.rows[0]["subcategory"] == "1.1"
    assert list(Level.objects.values_list("number", flat=True)) == [1, 2, 3]
    assert list(Subcategory.objects.values_list("code", flat=True)) == [
        "1.1",
        "1.2",
        "2.1",
        "2.2",
        "3.1",
        "3.2",
        "3.3",
        "3.4",
        "3.5",
    ]
    service_1 = Service.objects.select_related("subcategory__level").get(code=1)
    assert service_1.title == "Composantes et facettes de l’identité numérique"
    assert service_1.subcategory.code == "1.1"
    assert service_1.subcategory.level.number == 1
    assert Service.objects.get(code=129).subcategory.code == "3.5"
    assert AuditLog.objects.filter(action="aptic.referential_imported", target_id=str(version.pk)).exists()


@pytest.mark.django_db
def test_identical_second_import_creates_no_version():
    first = import_referential(BUNDLED_FILE, source_name="a.csv")
    with BUNDLED_FILE.open("rb") as file:
        second = import_referential(file, source_name="b.csv")

    assert second.pk == first.pk
    assert ReferentialVersion.objects.count() == 1
    assert ReferentialVersion.objects.get().source_name == "a.csv"


@pytest.mark.django_db
def test_modified_file_creates_version_2_and_deactivates_removed_services():
    import_referential(BUNDLED_FILE, source_name="v1.csv")
    lines = bundled_lines()
    lines[1] = replace_cell(lines[1], 1, "Identité numérique : ses composantes")
    modified = lines[:-2]  # services 128 and 129 leave the referential

    version = import_referential(as_csv(modified), source_name="v2.csv")

    assert version.number == 2
    assert version.row_count == 127
    assert ReferentialVersion.objects.count() == 2
    assert Service.objects.count() == 129, "removed services are kept"
    assert set(Service.objects.filter(is_active=False).values_list("code", flat=True)) == {128, 129}
    assert Service.objects.get(code=1).title == "Identité numérique : ses composantes"

    # Going back to the full file reactivates them, as version 3.
    again = import_referential(BUNDLED_FILE, source_name="v3.csv")
    assert again.number == 3
    assert Service.objects.filter(is_active=True).count() == 129
    assert Service.objects.get(code=1).title == "Composantes et facettes de l’identité numérique"


@pytest.mark.django_db
def test_file_with_bad_rows_writes_nothing_and_reports_every_line():
    lines = bundled_lines()
    lines[4] = replace_cell(lines[4], 0, "quatre")  # line 5 of the file
    lines[9] = replace_cell(lines[9], 2, "4")  # line 10 of the file

    with pytest.raises(ReferentialImportError) as raised:
        import_referential(as_csv(lines), source_name="bad.csv")

    error = raised.value
    assert isinstance(error, DomainError)
    assert error.code == "referential_invalid"
    assert [line for line, _ in error.errors] == [5, 10]
    assert "« quatre » n'est pas un nombre entier" in error.errors[0][1]
    assert "niveau « 4 » doit être 1, 2 ou 3" in error.errors[1][1]
    assert [item["line"] for item in error.as_dict()["error"]["errors"]] == [5, 10]
    assert Level.objects.count() == 0
    assert Subcategory.objects.count() == 0
    assert Theme.objects.count() == 0
    assert Service.objects.count() == 0
    assert ReferentialVersion.objects.count() == 0


@pytest.mark.django_db
def test_bad_file_leaves_an_existing_referential_untouched():
    version = import_referential(BUNDLED_FILE, source_name="v1.csv")
    lines = bundled_lines()[:50]
    lines[1] = replace_cell(lines[1], 1, "Nouveau titre")
    lines[3] = replace_cell(lines[3], 4, "2.1")  # level 1 service in a level 2 sub-category

    with pytest.raises(ReferentialImportError) as raised:
        import_referential(as_csv(lines), source_name="bad.csv")

    assert [line for line, _ in raised.value.errors] == [4]
    assert "ne commence pas par son niveau" in raised.value.errors[0][1]
    assert ReferentialVersion.objects.get() == version
    assert Service.objects.filter(is_active=True).count() == 129
    assert Service.objects.get(code=1).title == "Composantes et facettes de l’identité numérique"


ROW = "{code},{title},1,Découvrir les enjeux du numérique,{sub},S'informer,5,L'approfondissement du numérique"


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [ROW.format(code=1, title="A", sub="1.1"), ROW.format(code=1, title="B", sub="1.1")],
            [(3, "le code 1 figure déjà ligne 2.")],
        ),
        ([ROW.format(code=1, title="", sub="1.1")], [(2, "l'intitulé du service est vide.")]),
        ([ROW.format(code="", title="A", sub="1.1")], [(2, "le code du service est vide.")]),
        ([ROW.format(code=0, title="A", sub="1.1")], [(2, "le code 0 doit être supérieur ou égal à 1.")]),
        ([ROW.format(code=1, title="A", sub="1")], [(2, "la sous-catégorie « 1 » doit s'écrire comme 2.1.")]),
        ([ROW.format(code=1, title="A", sub="1.1") + ",extra"], [(2, "la ligne a plus de 8 colonnes.")]),
        (["1,A,1"], [(2, "la ligne est incomplète : il manque des colonnes.")]),
        ([], [(2, "le fichier ne contient aucun service.")]),
        (
            [
                ROW.format(code=1, title="A", sub="1.1"),
                ROW.format(code=2, title="B", sub="1.1").replace("S'informer", "Autre titre"),
            ],
            [(3, "la sous-catégorie 1.1 est déjà décrite autrement ligne 2.")],
        ),
    ],
)
@pytest.mark.django_db
def test_each_faulty_row_is_explained(rows, expected):
    with pytest.raises(ReferentialImportError) as raised:
        import_referential(as_csv([HEADER, *rows]), source_name="bad.csv")
    assert raised.value.errors == expected
    assert Service.objects.count() == 0


@pytest.mark.django_db
def test_missing_column_is_reported_on_the_header_line():
    header = HEADER.replace(",theme_title", "")
    with pytest.raises(ReferentialImportError) as raised:
        import_referential(as_csv([header, "1,A,1,N,1.1,S,5"]), source_name="bad.csv")
    assert raised.value.errors == [(1, "colonne manquante : theme_title.")]


@pytest.mark.django_db
def test_non_utf8_file_is_refused_with_its_line():
    content = (HEADER + "\n" + ROW.format(code=1, title="Télé", sub="1.1") + "\n").encode("latin-1")
    with pytest.raises(ReferentialImportError) as raised:
        import_referential(content, source_name="latin1.csv")
    assert raised.value.errors == [(2, "le fichier doit être encodé en UTF-8.")]


@pytest.mark.django_db
def test_ensure_referential_loaded_is_idempotent():
    first = ensure_referential_loaded()
    second = ensure_referential_loaded()

    assert first.pk == second.pk
    assert ReferentialVersion.objects.count() == 1
    assert Service.objects.count() == 129
