"""Audiences are one coded vocabulary (``passnum.audiences``): programmes, beneficiaries and sites
store codes, forms show the French labels, a programme may add its own codes, the former labels
were migrated to codes, and the programme's report counts hand-overs by code (a renamed label
keeps its history) and by age band, small counts suppressed."""

import csv
import io

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from beneficiaries import services as beneficiary_services
from beneficiaries.models import HandOver
from beneficiaries.services import BeneficiaryRefused
from passnum import audiences
from passnum.audiences import Audience
from passnum.organisations.services import create_api_token
from passnum.passes import services as pass_services
from sponsors import services
from sponsors.models import Programme, ProgrammeAudience
from tests.beneficiaries.factories import BeneficiaryFactory, HandOverFactory, booklets_in_stock
from tests.clearing.factories import paris
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

# The sites' former labels and the programmes' former list, as stored before the codes.
FORMER_PROGRAMME_LABELS = {
    "Seniors": "seniors",
    "Jeunes de 16 à 25 ans": "youth",
    "Jeunes femmes de 16 à 25 ans": "young_women",
    "Bénéficiaires du RSA": "minimum_income",
    "Demandeurs d'emploi": "job_seekers",
    "Personnes en situation de handicap": "disability",
    "Personnes en perte d'autonomie": "loss_of_autonomy",
    "Décrocheurs scolaires": "school_dropouts",
    "Habitants des quartiers prioritaires (QPV)": "priority_areas",
    "Habitants des zones rurales isolées": "remote_areas",
    # The sites' former labels.
    "Jeunes (16-25 ans)": "youth",
    "Allocataires du RSA": "minimum_income",
    "Familles et enfants": "families",
    "Habitants des quartiers prioritaires et zones isolées": "priority_areas",
}


# --- The vocabulary ---------------------------------------------------------------------------


def test_national_codes_cannot_collide_with_a_programme_code_and_labels_are_unique():
    for code in Audience.values:
        assert audiences.NATIONAL_CODE.match(code) and "-" not in code and not audiences.is_programme_code(code)
    assert len(set(Audience.labels)) == len(Audience.labels)
    code = audiences.programme_code_for("Seniors", taken={})
    assert audiences.is_programme_code(code) and code not in Audience.values


def test_every_former_label_maps_to_its_national_code_whatever_its_accents_and_case():
    for label, code in FORMER_PROGRAMME_LABELS.items():
        assert audiences.national_code(label) == code, label
    assert audiences.national_code("  demandeurs D’EMPLOI ") == "job_seekers"
    assert audiences.national_code("seniors") == "seniors"
    assert audiences.national_code("Aidants familiaux") is None


def test_an_unknown_label_becomes_a_code_of_the_programme_kept_with_its_label():
    own = {}
    codes = audiences.codes_for(["Seniors", "Aidants familiaux", "aidants  familiaux", "Aidants-familiaux !"], own=own)
    assert codes == ["seniors", "p-aidants-familiaux", "p-aidants-familiaux-2"]
    assert own == {"p-aidants-familiaux": "Aidants familiaux", "p-aidants-familiaux-2": "Aidants-familiaux !"}
    # Known again: the same codes, nothing added.
    assert audiences.codes_for(["p-aidants-familiaux", "AIDANTS FAMILIAUX"], own=own) == ["p-aidants-familiaux"]
    assert len(own) == 2


def test_the_open_data_maps_site_codes_to_the_national_schema_in_one_place():
    assert audiences.schema_publics(["young_women", "seniors", "youth", "job_seekers"]) == [
        "Jeunes",
        "Seniors",
        "Femmes",
    ]


# --- The data migration -----------------------------------------------------------------------

BEFORE = [
    ("sponsors", "0005_order_number_required_and_unique"),
    ("beneficiaries", "0002_stored_answers_moved_to_passnum_idempotency"),
    ("mediators", "0007_refused_scan_reason_territory_refusals"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_labels_into_codes_and_keeps_unknown_labels_as_the_programmes_own():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Organisation = old.get_model("organisations", "Organisation")
    OldProgramme = old.get_model("sponsors", "Programme")
    OldBeneficiary = old.get_model("beneficiaries", "Beneficiary")
    Site = old.get_model("mediators", "Site")
    SiteAudience = old.get_model("mediators", "SiteAudience")
    sponsor = Organisation.objects.create(kind="sponsor", name="Département", siret="22330001300016")
    prescriber = Organisation.objects.create(kind="prescriber", name="CCAS", siret="26330001800017")
    programme = OldProgramme.objects.create(
        sponsor=sponsor,
        name="Pass Gironde",
        prefix="GIR",
        valid_until="2030-12-31",
        audiences=["Seniors", "Jeunes de 16 à 25 ans", "Aidants familiaux"],
    )
    plain = OldProgramme.objects.create(sponsor=sponsor, name="Tous publics", prefix="TOUS", valid_until="2030-12-31")
    senior = OldBeneficiary.objects.create(
        created_by=prescriber, programme=programme, age_band="75+", commune="33063", audiences=["Seniors"]
    )
    carer = OldBeneficiary.objects.create(
        created_by=prescriber,
        programme=programme,
        age_band="45-59",
        commune="33063",
        audiences=["Aidants familiaux", "Jeunes de 16 à 25 ans"],
    )
    # A label the programme no longer targets (it was edited since): kept as its own code.
    veteran = OldBeneficiary.objects.create(
        created_by=prescriber, programme=programme, age_band="75+", commune="33063", audiences=["Anciens combattants"]
    )
    nobody = OldBeneficiary.objects.create(
        created_by=prescriber, programme=plain, age_band="26-44", commune="33063", audiences=[]
    )
    site = Site.objects.create(
        organisation=Organisation.objects.create(kind="site", name="Médiathèque", siret="21330318000011"),
        legal_form="commune",
        sector="public",
    )
    SiteAudience.objects.create(site=site, audience="priority_areas")
    SiteAudience.objects.create(site=site, audience="youth")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from beneficiaries.models import Beneficiary
    from mediators.models import SiteAudience as NewSiteAudience

    programme = Programme.objects.get(pk=programme.pk)
    assert programme.audiences == ["seniors", "youth", "p-aidants-familiaux"]
    assert Programme.objects.get(pk=plain.pk).audiences == []
    own = dict(ProgrammeAudience.objects.filter(programme=programme).values_list("code", "label"))
    assert own == {"p-aidants-familiaux": "Aidants familiaux", "p-anciens-combattants": "Anciens combattants"}
    assert Beneficiary.objects.get(pk=senior.pk).audiences == ["seniors"]
    assert Beneficiary.objects.get(pk=carer.pk).audiences == ["p-aidants-familiaux", "youth"]
    assert Beneficiary.objects.get(pk=veteran.pk).audiences == ["p-anciens-combattants"]
    assert Beneficiary.objects.get(pk=nobody.pk).audiences == []
    # The sites' « quartiers prioritaires et zones isolées » became both codes.
    assert set(NewSiteAudience.objects.filter(site_id=site.pk).values_list("audience", flat=True)) == {
        "priority_areas",
        "remote_areas",
        "youth",
    }


# --- Programmes: labels in the form, codes stored, own codes renamed --------------------------


@pytest.fixture
def sponsor_client(client, member_of):
    def login(programme_or_sponsor):
        sponsor = getattr(programme_or_sponsor, "sponsor", programme_or_sponsor)
        client.force_login(member_of(sponsor, role="admin"))
        return client

    return login


def programme_form(**overrides):
    data = {
        "name": "Pass Gironde",
        "prefix": "GIR",
        "face_value_euros": "10",
        "passes_per_booklet": "10",
        "valid_until": "31/12/2030",
        "grace_months": "1",
        "grace_days": "0",
        "departments": "33",
        "communes": "",
        "audiences": ["seniors", "job_seekers"],
        "other_audiences": "Aidants familiaux\nPersonnes âgées",
        "cofunders": "",
    }
    data.update(overrides)
    return data


def test_the_programme_form_shows_labels_and_stores_codes(sponsor_client):
    sponsor = OrganisationFactory(sponsor=True)
    client = sponsor_client(sponsor)
    page = client.get(reverse("sponsors:programme_create")).content.decode()
    assert 'value="young_women"' in page and "Jeunes femmes de 16 à 25 ans" in page
    response = client.post(reverse("sponsors:programme_create"), programme_form())
    assert response.status_code == 302
    programme = Programme.objects.get(sponsor=sponsor)
    # « Personnes âgées » is a common wording of a national audience: its code, not a new one.
    assert programme.audiences == ["seniors", "job_seekers", "p-aidants-familiaux"]
    detail = client.get(reverse("sponsors:programme", kwargs={"pk": programme.pk})).content.decode()
    assert "Seniors, Demandeurs d&#x27;emploi, Aidants familiaux" in detail

    edit = client.get(reverse("sponsors:programme_edit", kwargs={"pk": programme.pk})).content.decode()
    assert 'value="p-aidants-familiaux"' in edit and "Nom du public « Aidants familiaux »" in edit


def test_a_form_refuses_a_label_in_place_of_a_code(sponsor_client):
    sponsor = OrganisationFactory(sponsor=True)
    response = sponsor_client(sponsor).post(reverse("sponsors:programme_create"), programme_form(audiences=["Seniors"]))
    assert response.status_code == 200 and not Programme.objects.filter(sponsor=sponsor).exists()
    assert response.context["form"].has_error("audiences")


def test_renaming_an_own_audience_keeps_its_code_and_its_history_in_the_report(sponsor_client):
    prescriber = OrganisationFactory(prescriber=True)
    booklets = booklets_in_stock(prescriber, 12, departments=["33"], communes=[])
    programme = booklets[0].programme
    set_audiences(programme, ["seniors", "Aidants familiaux"])
    assert programme.audiences == ["seniors", "p-aidants-familiaux"]
    for i, booklet in enumerate(booklets[:6]):  # six hand-overs to carers, before the rename
        hand_over(prescriber, booklet, ["Aidants familiaux"] if i % 2 else ["p-aidants-familiaux", "seniors"])

    client = sponsor_client(programme)
    data = programme_form(
        prefix=programme.prefix,
        audiences=["seniors", "p-aidants-familiaux"],
        other_audiences="",
        **{"own_label_p-aidants-familiaux": "Proches aidants"},
    )
    data.update(
        face_value_euros=str(programme.face_value_cents / 100),
        passes_per_booklet=str(programme.passes_per_booklet),
        valid_until=programme.valid_until.strftime("%d/%m/%Y"),
    )
    response = client.post(reverse("sponsors:programme_edit", kwargs={"pk": programme.pk}), data)
    assert response.status_code == 302, response.context["form"].errors
    programme.refresh_from_db()
    assert programme.audiences == ["seniors", "p-aidants-familiaux"]
    assert ProgrammeAudience.objects.get(programme=programme).label == "Proches aidants"
    for booklet in booklets[6:8]:  # two more after the rename, under the new label
        hand_over(prescriber, booklet, ["Proches aidants"])

    report = client.get(reverse("sponsors:programme", kwargs={"pk": programme.pk})).context["report"]
    rows = {row["key"]: row for row in report["by_audience"]["rows"]}
    assert (rows["p-aidants-familiaux"]["label"], rows["p-aidants-familiaux"]["count"]) == ("Proches aidants", 8)
    assert "Aidants familiaux" not in {row["label"] for row in report["by_audience"]["rows"]}


def test_the_database_refuses_a_programme_code_that_could_be_a_national_one():
    programme = booklets_in_stock(OrganisationFactory(prescriber=True), 1)[0].programme
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgrammeAudience.objects.create(programme=programme, code="seniors", label="Aînés")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgrammeAudience.objects.create(programme=programme, code="p-Aînés", label="Aînés")


def test_a_renamed_label_cannot_take_a_national_label_or_another_own_label():
    programme = booklets_in_stock(OrganisationFactory(prescriber=True), 1)[0].programme
    set_audiences(programme, ["Aidants familiaux", "Parents isolés"])
    with pytest.raises(services.ProgrammeRefused, match="liste nationale"):
        services.rename_programme_audience(programme=programme, code="p-aidants-familiaux", label="seniors")
    with pytest.raises(services.ProgrammeRefused, match="déjà un public"):
        services.rename_programme_audience(programme=programme, code="p-aidants-familiaux", label="parents ISOLÉS")
    with pytest.raises(services.ProgrammeRefused, match="pas un public propre"):
        services.rename_programme_audience(programme=programme, code="seniors", label="Aînés")
    assert ProgrammeAudience.objects.get(code="p-aidants-familiaux").label == "Aidants familiaux"


# --- Beneficiaries: codes stored, labels still understood (API clients) ------------------------


def hand_over(prescriber, booklet, audience_values, age_band="60-74"):
    data = {"age_band": age_band, "commune": "33063", "audiences": audience_values, "contact_consent": False}
    return beneficiary_services.hand_over(prescriber, booklet.serial, data)[0]


def set_audiences(programme, values):
    """The programme's audiences through the service that the programme form uses."""
    programme.audiences = services.audience_codes_for(programme=programme, values=values)
    programme.save(update_fields=["audiences", "updated_at"])


def test_a_hand_over_stores_codes_from_codes_or_labels_and_refuses_another_programmes_audience():
    prescriber = OrganisationFactory(prescriber=True)
    first, second, third = booklets_in_stock(prescriber, 3)  # programme: seniors, job_seekers
    hand_over(prescriber, first, ["Demandeurs d'emploi", "seniors"])
    hand_over(prescriber, second, ["job_seekers"])
    stored = [h.beneficiary.audiences for h in HandOver.objects.select_related("beneficiary").order_by("pk")]
    assert stored == [["seniors", "job_seekers"], ["job_seekers"]]
    with pytest.raises(BeneficiaryRefused, match="n'est pas un public visé"):
        hand_over(prescriber, third, ["youth"])


# --- The report by audience and by age band ---------------------------------------------------


def build_hand_overs(spec):
    """``spec``: ``[(audience codes, age band)]``, one hand-over each, in March 2026."""
    prescriber = OrganisationFactory(prescriber=True, name="Mairie de Pessac")
    booklets = booklets_in_stock(prescriber, len(spec), departments=["33"], communes=[])
    for booklet, (codes, band) in zip(booklets, spec, strict=True):
        pass_services.hand_out_booklet(booklet)
        HandOverFactory(
            organisation=prescriber,
            booklet=booklet,
            at=paris(2026, 3, 2),
            beneficiary=BeneficiaryFactory(
                created_by=prescriber, programme=booklet.programme, audiences=codes, age_band=band
            ),
        )
    return booklets[0].programme


def report_of(client, programme, **params):
    return client.get(reverse("sponsors:programme", kwargs={"pk": programme.pk}), params)


def test_a_person_of_several_audiences_counts_in_each_and_small_cells_are_suppressed(sponsor_client):
    spec = (
        [(["seniors"], "75+")] * 9
        + [(["seniors", "job_seekers"], "60-74")] * 3
        + [(["job_seekers"], "26-44")] * 6
        + [([], "45-59")] * 2
    )
    programme = build_hand_overs(spec)
    response = report_of(sponsor_client(programme), programme)
    html = response.content.decode()
    table = response.context["report"]["by_audience"]
    rows = {row["key"]: (row["label"], row["count"], row["hidden"]) for row in table["rows"]}
    assert rows == {
        "seniors": ("Seniors", 12, None),
        "job_seekers": ("Demandeurs d'emploi", 9, None),
        "aucun": ("Aucun public indiqué", 2, "primary"),
    }
    assert table["total"] is None  # 23 in the rows for 20 hand-overs: no total row
    assert "une personne de plusieurs publics compte dans chacun" in html

    bands = response.context["report"]["by_age_band"]
    shown = {row["key"]: (row["count"], row["hidden"]) for row in bands["rows"]}
    assert shown["75+"] == (9, None) and shown["26-44"] == (6, None) and shown["16-25"] == (0, None)
    # 3 and 2 are small: both « < 5 », and together they cannot be recomputed from the total.
    assert shown["60-74"] == (3, "primary") and shown["45-59"] == (2, "primary")
    assert (bands["total"]["count"], bands["total"]["hidden"]) == (20, None)
    assert "Remises par tranche d'âge de la personne, notée au guichet" in html


def test_a_single_small_audience_gets_a_companion_when_the_rows_part_the_hand_overs(sponsor_client):
    # Nobody has two audiences: the rows add up to the hand-overs shown elsewhere (« Total » of
    # the other tables), so the one small cell needs a second one hidden.
    programme = build_hand_overs([(["seniors"], "75+")] * 8 + [(["job_seekers"], "26-44")] * 3 + [([], "45-59")] * 6)
    report = report_of(sponsor_client(programme), programme).context["report"]
    rows = {row["key"]: (row["count"], row["hidden"]) for row in report["by_audience"]["rows"]}
    assert rows == {"seniors": (8, None), "job_seekers": (3, "primary"), "aucun": (6, "secondary")}
    assert report["by_department"]["total"]["count"] == 17  # the total the other tables show
    # Same for the age bands (a list with its total): 3 is « < 5 », the smallest other band above
    # zero is « masqué », so that 3 cannot be found by subtraction; the zeros stay shown.
    bands = {row["key"]: (row["count"], row["hidden"]) for row in report["by_age_band"]["rows"]}
    assert bands == {
        "16-25": (0, None),
        "26-44": (3, "primary"),
        "45-59": (6, "secondary"),
        "60-74": (0, None),
        "75+": (8, None),
    }
    assert (report["by_age_band"]["total"]["count"], report["by_age_band"]["total"]["hidden"]) == (17, None)


def test_the_audience_and_age_tables_keep_the_page_queries_fixed(sponsor_client):
    small = build_hand_overs([(["seniors"], "75+")])
    client = sponsor_client(small)
    report_of(client, small)
    with CaptureQueriesContext(connection) as small_queries:
        assert report_of(client, small).status_code == 200

    large = build_hand_overs([(["seniors"], "75+"), (["job_seekers", "seniors"], "16-25")] * 6 + [([], "45-59")] * 4)
    set_audiences(large, ["seniors", "job_seekers", "Aidants familiaux"])
    client = sponsor_client(large)
    report_of(client, large)
    with CaptureQueriesContext(connection) as large_queries:
        response = report_of(client, large)
    assert [r["count"] for r in response.context["report"]["by_audience"]["rows"]] == [12, 6, 0, 4]
    # The same queries, even with labels of the programme's own (read once per programme version).
    assert len(large_queries) == len(small_queries), [q["sql"][:120] for q in large_queries.captured_queries]
    assert len(large_queries) <= 20


def test_the_api_gives_the_audience_table_without_a_total_and_the_age_table_with_one(client, member_of):
    programme = build_hand_overs([(["seniors"], "75+")] * 6 + [(["seniors", "job_seekers"], "60-74")] * 2)
    _token, key = create_api_token(
        organisation=programme.sponsor, user=member_of(programme.sponsor, role="admin"), name="rapport"
    )
    url = reverse("api:report-programme", kwargs={"id": programme.pk})
    body = client.get(url, HTTP_AUTHORIZATION=f"Token {key}").json()
    tables = {t["key"]: t for t in body["tables"]}
    audience = {row["key"]: (row["count"], row["suppressed"]) for row in tables["by_audience"]["rows"]}
    assert audience == {"seniors": (8, None), "job_seekers": (None, "< 5")}
    assert tables["by_audience"]["total"] is None
    assert tables["by_age_band"]["total"]["count"] == 8

    response = client.get(url, {"format": "csv"}, HTTP_AUTHORIZATION=f"Token {key}")
    rows = [r for r in csv.DictReader(io.StringIO(response.content.decode())) if r["tableau"] == "by_audience"]
    assert [(r["cle"], r["libelle"], r["nombre"]) for r in rows] == [
        ("seniors", "Seniors", "8"),
        ("job_seekers", "Demandeurs d'emploi", "< 5"),
    ]
