"""Exports of the reports: the sponsor's tables in CSV, XLSX and PDF (small counts suppressed),
the operator's rows without personal data, streamed; above the threshold, a background export
with its progress page and a link valid 7 days; every download audited; 404 across organisations."""

import csv
import datetime
import io
import re
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from beneficiaries.models import Beneficiary, HandOver
from mediators.places.models import PointOfPresence
from mediators.redemption.models import RedeemedPass, Redemption
from passnum import csv_export
from passnum.audit.models import AuditLog
from passnum.passes.models import Booklet
from sponsors.models import Programme
from sponsors.reporting import exports, pdf, services
from sponsors.reporting.models import ExportJob
from sponsors.reporting.periods import Period
from tests.factories import OrganisationFactory, UserFactory
from tests.sponsors.factories import ExportJobFactory
from tests.sponsors.test_reporting import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def sponsor_client(client, member_of):
    def login(programme):
        client.force_login(member_of(programme.sponsor, role="admin"))
        return client

    return login


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(with_mfa=True, is_staff=True))
    return client


def body(response) -> bytes:
    """The response's bytes; a streamed file is read to its end and closed (``response.close()``
    would also end the test's database connection, as at the end of a request)."""
    if not response.streaming:
        return response.content
    content = b"".join(response.streaming_content)
    if getattr(response, "file_to_stream", None) is not None:
        response.file_to_stream.close()
    return content


def csv_rows(response) -> list[list[str]]:
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")  # French spreadsheets read UTF-8 with its byte-order mark
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def xlsx_text(content: bytes) -> str:
    """The cells of a workbook's first sheet, as its XML (numbers and inline or shared strings)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
        if "xl/sharedStrings.xml" in names:
            xml += archive.read("xl/sharedStrings.xml").decode()
    return xml


def export_url(programme, **params):
    return reverse("reporting:programme_export", kwargs={"pk": programme.pk}) + (
        "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    )


def by_table(rows):
    header, *lines = rows
    return [dict(zip(header, line, strict=True)) for line in lines]


# --- The sponsor's report ---------------------------------------------------------------------


def test_the_sponsor_csv_holds_the_report_tables_with_small_counts_suppressed(sponsor_client):
    programme = build(booklets=3, redemptions=[3, 8, 10])
    response = sponsor_client(programme).get(export_url(programme, format="csv"))
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]
    assert f"rapport-programme-{programme.pk}.csv" in response["Content-Disposition"]
    lines = by_table(csv_rows(response))
    month = [line for line in lines if line["tableau"] == "by_month"]
    assert [(m["libellé"], m["nombre"]) for m in month] == [("mars 2026", "21"), ("Total", "21")]
    # Three hand-overs by one prescriber: « < 5 », and the total that would give it away as well.
    prescriber = [line for line in lines if line["tableau"] == "by_prescriber"]
    assert [(p["libellé"], p["nombre"]) for p in prescriber] == [("Mairie de Pessac", "< 5"), ("Total", "< 5")]
    assert all(line["nombre"] != "3" for line in prescriber)
    entry = AuditLog.objects.get(action="reporting.programme_report_csv.downloaded")
    assert entry.organisation_id == programme.sponsor_id and entry.target_id == str(programme.pk)
    assert entry.after["file"] == f"rapport-programme-{programme.pk}.csv"


def test_the_sponsor_xlsx_holds_the_same_figures_and_no_formula(sponsor_client):
    programme = build(booklets=3, redemptions=[3, 8, 10])
    programme.sponsor.name = "=HYPERLINK(1)"
    response = sponsor_client(programme).get(export_url(programme, format="xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    content = body(response)
    assert content[:2] == b"PK"  # a ZIP, as every workbook
    xml = xlsx_text(content)
    assert "Mairie de Pessac" in xml and "&lt; 5" in xml and "mars 2026" in xml
    assert "<v>21</v>" in xml  # the month's redemptions, a number the spreadsheet can add up
    assert "<f>" not in xml  # no cell is a formula
    assert AuditLog.objects.filter(action="reporting.programme_report_xlsx.downloaded").count() == 1


def test_the_export_follows_the_period_and_refuses_a_wrong_one(sponsor_client):
    programme = build(booklets=1, redemptions=[6])
    client = sponsor_client(programme)
    lines = by_table(csv_rows(client.get(export_url(programme, format="csv", du="2026-04", au="2026-05"))))
    assert [(line["libellé"], line["nombre"]) for line in lines if line["tableau"] == "by_month"] == [("Total", "0")]
    response = client.get(export_url(programme, format="csv", du="2026-06", au="2026-01"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("sponsors:programme", kwargs={"pk": programme.pk})
    assert "La période est à l&#x27;envers" in response.content.decode()
    response = client.get(export_url(programme, format="ods"), follow=True)
    assert "Choisissez le format CSV ou XLSX." in response.content.decode()
    assert AuditLog.objects.filter(action__startswith="reporting.").count() == 1  # the first one only


def test_the_programme_page_links_its_downloads(sponsor_client):
    programme = build(booklets=1, redemptions=[6])
    html = sponsor_client(programme).get(reverse("sponsors:programme", kwargs={"pk": programme.pk})).content.decode()
    assert export_url(programme, format="xlsx") in html.replace("&amp;", "&")
    assert reverse("reporting:programme_pdf", kwargs={"pk": programme.pk}) in html


def test_another_organisation_s_programme_is_not_found(client, member_of):
    programme = build(booklets=1, redemptions=[6])
    client.force_login(member_of(OrganisationFactory(sponsor=True), role="admin"))
    assert client.get(export_url(programme, format="csv")).status_code == 404
    assert client.get(reverse("reporting:programme_pdf", kwargs={"pk": programme.pk})).status_code == 404
    assert not AuditLog.objects.filter(action__startswith="reporting.").exists()


def test_the_pdf_report_has_the_tables_and_charts_without_suppressed_bars(sponsor_client):
    programme = build(booklets=3, redemptions=[3, 8, 10])
    response = sponsor_client(programme).get(reverse("reporting:programme_pdf", kwargs={"pk": programme.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "Encaissements par mois" in text and "mars 2026" in text
    assert re.search(r"mars 2026\s+21", text)  # a figure of the month's table
    assert "< 5" in text and "Mairie de Pessac" in text
    assert AuditLog.objects.filter(action="reporting.programme_report_pdf.downloaded").count() == 1


def test_a_suppressed_value_gets_no_bar():
    chart = pdf.bar_chart(
        title="Essai",
        rows=[
            {"label": "A", "count": 40, "hidden": None},
            {"label": "B", "count": 3, "hidden": "primary"},
            {"label": "C", "count": 20, "hidden": None},
            {"label": "D", "count": 6, "hidden": "secondary"},
        ],
    )
    bars = {bar["label"]: bar for bar in chart["bars"]}
    assert bars["B"]["width"] == 0 and bars["B"]["value"] == "< 5" and bars["B"]["hidden"]
    assert bars["D"]["width"] == 0 and bars["D"]["value"] == "masqué"
    assert bars["A"]["width"] == 2 * bars["C"]["width"] > 0  # scaled on the shown values only


# --- The operator's rows ------------------------------------------------------------------------


def operator_export(client, **data):
    return client.post(reverse("reporting:operator_exports"), {"kind": "redemptions", "file_format": "csv", **data})


def test_the_operator_csv_has_one_row_per_redemption_and_no_personal_data(staff_client):
    programme = build(booklets=2, redemptions=[2, 4])
    Beneficiary.objects.update(
        contact_consent=True, email="camille@exemple.fr", phone="0601020304", name="Camille Martin"
    )
    response = operator_export(staff_client)
    assert response.status_code == 200 and response.streaming
    header, *lines = csv_rows(response)
    assert len(lines) == 6
    assert header[:3] == ["identifiant de l'encaissement", "encaissé le", "n° du programme"]
    assert {line[3] for line in lines} == {programme.name}
    assert {line[10] for line in lines} == {"10,00"}  # one 10 € pass each, in euros with a comma
    assert lines[0][1] == "10/03/2026 12:00"  # Paris time (noon, as the factory dates them)
    text = body(operator_export(staff_client)).decode()
    codes = RedeemedPass.objects.values_list("pass_ref__code", flat=True)
    serials = Booklet.objects.values_list("serial", flat=True)
    for secret in [*codes, *serials, "camille@exemple.fr", "0601020304", "Camille Martin", "33063"]:
        assert secret not in text
    assert AuditLog.objects.filter(action="reporting.redemptions_csv.downloaded").count() == 2
    # The period filters the rows (its bounds go to the database as parameters).
    assert len(csv_rows(operator_export(staff_client, du="2026-03", au="2026-03"))) == 1 + 6
    assert csv_rows(operator_export(staff_client, du="2026-04")) == [header]


def test_the_operator_hand_overs_in_xlsx_give_the_department_not_the_commune(staff_client):
    build(booklets=2, redemptions=[1, 1])
    response = operator_export(staff_client, kind="hand_overs", file_format="xlsx")
    assert response.status_code == 200
    xml = xlsx_text(body(response))
    assert "département de la personne" in xml and ">33<" in xml
    assert "33063" not in xml
    assert "Mairie de Pessac" in xml


def test_the_operator_exports_are_for_staff_only(client, member_of):
    client.force_login(member_of(OrganisationFactory(sponsor=True), role="admin"))
    assert client.get(reverse("reporting:operator_exports")).status_code == 404
    assert operator_export(client).status_code == 404


def test_a_wrong_operator_request_is_explained(staff_client):
    response = operator_export(staff_client, du="2026-06", au="2026-01")
    assert response.status_code == 400
    assert "La période est à l&#x27;envers" in response.content.decode()
    assert operator_export(staff_client, kind="beneficiaries").status_code == 400


@pytest.mark.parametrize("kind", ["redemptions", "hand_overs"])
def test_postgresql_writes_the_values_as_the_python_code_does(kind):
    """Large CSVs take their dates and amounts written by PostgreSQL; the embedded default
    (SQLite) writes them in Python: both give the same file."""
    build(booklets=2, redemptions=[2, 4])
    Redemption.objects.filter(pk=Redemption.objects.order_by("pk").first().pk).update(
        settled_at=datetime.datetime(2026, 4, 30, 22, 5, tzinfo=datetime.UTC), beneficiary_share_cents=250
    )
    HandOver.objects.filter(pk=HandOver.objects.order_by("pk").first().pk).update(
        is_exception=True, exception_reason="Justificatif oublié"
    )
    # Texts the CSV must quote, and one a spreadsheet would run as a formula.
    Programme.objects.update(name='=Essai; le "pass"')
    PointOfPresence.objects.update(name="Lieu\nsur deux lignes")
    export = exports.source(kind=kind, period=Period())
    assert export.text_batches is not None  # the tests run on PostgreSQL
    by_postgresql = b"".join(exports.csv_chunks(export))
    export.text_batches = None
    by_python = b"".join(exports.csv_chunks(export))
    assert by_postgresql == by_python
    text = by_python.decode()
    assert '"\'=Essai; le ""pass"""' in text  # quoted, its quotes doubled, no formula
    assert ("01/05/2026 00:05" in text and ";2,50;" in text) if kind == "redemptions" else ";oui;" in text


# --- Above the threshold: in the background ------------------------------------------------


def test_a_large_export_runs_in_the_background_and_its_link_works(
    staff_client, settings, django_capture_on_commit_callbacks
):
    settings.PASSNUM_EXPORT_ASYNC_ROWS = 5
    build(booklets=2, redemptions=[3, 4])
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_export(staff_client)
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("reporting:export_job", args=[job.pk])
    assert (job.status, job.row_count, job.rows_done, job.organisation) == ("done", 7, 7, None)
    assert job.expires_at - job.created_at == datetime.timedelta(days=7)
    page = staff_client.get(response["Location"]).content.decode()
    assert '<progress max="100" value="100"' in page and "Export prêt : 7 lignes." in page
    assert "hx-trigger" not in page  # nothing left to refresh
    download = staff_client.get(reverse("reporting:export_download", args=[job.pk]))
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]
    header, *lines = csv_rows(download)
    assert len(lines) == 7
    assert AuditLog.objects.filter(action="reporting.exportjob.downloaded", target_id=str(job.pk)).count() == 1
    assert not AuditLog.objects.filter(action="reporting.redemptions_csv.downloaded").exists()


def test_a_sponsor_s_large_export_belongs_to_its_organisation(
    sponsor_client, client, member_of, settings, django_capture_on_commit_callbacks
):
    settings.PASSNUM_EXPORT_ASYNC_ROWS = 5
    programme = build(booklets=3, redemptions=[3, 8, 10])
    with django_capture_on_commit_callbacks(execute=True):
        response = sponsor_client(programme).get(export_url(programme, format="xlsx"))
    job = ExportJob.objects.get()
    assert (job.organisation_id, job.status, job.file_format) == (programme.sponsor_id, "done", "xlsx")
    assert "Mairie de Pessac" in xlsx_text(body(client.get(reverse("reporting:export_download", args=[job.pk]))))
    assert response["Location"] == reverse("reporting:export_job", args=[job.pk])

    client.force_login(member_of(OrganisationFactory(sponsor=True), role="admin"))
    assert client.get(reverse("reporting:export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("reporting:export_download", args=[job.pk])).status_code == 404
    # Nor does the operator's staff see a sponsor's export (it is the sponsor's).
    client.force_login(UserFactory(with_mfa=True, is_staff=True))
    assert client.get(reverse("reporting:export_download", args=[job.pk])).status_code == 404


def test_the_progress_page_refreshes_itself_while_the_export_is_written(client, member_of):
    job = ExportJobFactory(status="running", row_count=40_000, rows_done=10_000, file=None)
    client.force_login(member_of(job.organisation, role="member"))
    html = client.get(reverse("reporting:export_job", args=[job.pk])).content.decode()
    assert '<progress max="100" value="25"' in html and "10000 lignes écrites sur 40000 (25 %)" in html
    assert 'hx-trigger="every 3s"' in html
    # Not ready: the link leads back to the page.
    response = client.get(reverse("reporting:export_download", args=[job.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("reporting:export_job", args=[job.pk])


def test_an_expired_link_is_refused_and_the_purge_deletes_its_file(client, member_of):
    job = ExportJobFactory()
    client.force_login(member_of(job.organisation, role="member"))
    name = job.file.name
    assert default_storage.exists(name)
    assert body(client.get(reverse("reporting:export_download", args=[job.pk]))) == b"tableau;nombre\r\n"
    fresh = ExportJobFactory(organisation=job.organisation)

    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get(reverse("reporting:export_download", args=[job.pk]))
    assert response.status_code == 410
    assert "Ce lien de téléchargement a expiré" in response.content.decode()

    assert services.purge_expired_exports() == 1
    job.refresh_from_db()
    assert not default_storage.exists(name) and not job.file and job.purged_at is not None
    assert default_storage.exists(fresh.file.name)  # still within its 7 days
    assert client.get(reverse("reporting:export_download", args=[job.pk])).status_code == 410
    assert "Ce lien a expiré" in client.get(reverse("reporting:export_job", args=[job.pk])).content.decode()
    assert services.purge_expired_exports() == 0


# --- The quick CSV writer of the large exports ------------------------------------------------

CELLS = st.one_of(
    st.text(alphabet=st.sampled_from(list("=+-@\t\r\n;\"' a1,")), max_size=6),
    st.integers(min_value=-20, max_value=20),
    st.none(),
)


@pytest.mark.django_db(False)
@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), max_size=6), lineterminator=st.sampled_from(["\r\n", "\n"])
)
def test_rows_as_text_escapes_every_cell_as_the_writer_does(rows, lineterminator):
    expected = io.StringIO()
    csv_export.writer(expected, delimiter=";", lineterminator=lineterminator).writerows(rows)
    assert csv_export.rows_as_text(rows, delimiter=";", lineterminator=lineterminator) == expected.getvalue()


@pytest.mark.django_db(False)
def test_rows_as_text_escapes_a_formula_in_a_large_batch():
    rows = [["Lieu", "10,00", ""]] * 1000 + [["=HYPERLINK(1)", "10,00", ""]]
    text = csv_export.rows_as_text(rows, delimiter=";", lineterminator="\r\n")
    assert text.endswith("'=HYPERLINK(1);10,00;\r\n") and text.count("\r\n") == 1001
