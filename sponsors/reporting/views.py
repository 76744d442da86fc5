"""Downloads of the reports: the sponsor's programme report (CSV, XLSX, PDF), the operator's
row-level exports, and the page and link of an export run in the background."""

import tempfile
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from passnum.audit.services import record_download
from passnum.errors import DomainError
from passnum.organisations.decorators import organisation_required
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.tenancy import get_for_organisation_or_404
from passnum.passes.downloads import never_stored
from sponsors.models import Programme
from sponsors.reporting import export_selectors, exports, pdf, services
from sponsors.reporting.forms import OperatorExportForm
from sponsors.reporting.models import ExportFormat, ExportJob, ExportKind
from sponsors.reporting.periods import check_period

sponsor_required = organisation_required(kinds=[OrganisationKind.SPONSOR])
FILE_PIECE_BYTES = 64 * 1024


def staff_required(view):
    """The operator's staff only; anyone else is told the page does not exist."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("Cette page est réservée à l'équipe de l'opérateur.")
        return view(request, *args, **kwargs)

    return wrapper


def _period(request, data):
    return check_period(
        first=data.get("du", "")[:20] or None, last=data.get("au", "")[:20] or None, today=timezone.localdate()
    )


def _deliver(request, export, *, file_format, organisation, params, document=None):
    """Small exports at once (CSV streamed, XLSX written to a temporary file then streamed);
    above the threshold, a background export and its page."""
    file_name = export.file_name(file_format)
    row_count = export.count()
    if services.is_large(row_count=row_count):
        job = services.start_export(
            user=request.user,
            organisation=organisation,
            kind=export.kind,
            file_format=file_format,
            params=params,
            row_count=row_count,
            file_name=file_name,
        )
        messages.info(request, "Cet export est volumineux : il se prépare, son lien apparaîtra sur cette page.")
        return redirect("reporting:export_job", pk=job.pk)
    record_download(
        request=request,
        document=document,
        kind=f"reporting.{export.kind}_{file_format}",
        organisation=organisation,
        file_name=file_name,
    )
    pieces = _xlsx_pieces(export) if file_format == ExportFormat.XLSX else exports.csv_chunks(export)
    response = StreamingHttpResponse(pieces, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return never_stored(response)


def _xlsx_pieces(export):
    """The workbook, written to a temporary file once the response starts, then sent in pieces;
    the file is removed when the response ends (or is abandoned)."""
    with tempfile.TemporaryFile() as handle:
        exports.write_xlsx(export, handle)
        handle.seek(0)
        yield from _pieces(handle)


def _pieces(handle):
    while piece := handle.read(FILE_PIECE_BYTES):
        yield piece


def _stored_file_pieces(field_file):
    """A stored file in pieces, opened once the response starts and closed at its end."""
    with field_file.open("rb") as handle:
        yield from _pieces(handle)


@sponsor_required
def programme_export(request, pk):
    """The programme's report as CSV (``?format=csv``, default) or XLSX, for the period asked for:
    the tables of its page, small counts suppressed the same way."""
    programme = get_for_organisation_or_404(Programme.objects.select_related("sponsor"), request.organisation, pk=pk)
    file_format = request.GET.get("format", ExportFormat.CSV)
    try:
        services.check_export(kind=ExportKind.PROGRAMME_REPORT, file_format=file_format)
        period = _period(request, request.GET)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sponsors:programme", pk=programme.pk)
    export = exports.source(kind=ExportKind.PROGRAMME_REPORT, period=period, programme=programme)
    return _deliver(
        request,
        export,
        file_format=file_format,
        organisation=request.organisation,
        params={"programme_id": programme.pk, **period.as_params()},
        document=programme,
    )


@sponsor_required
def programme_pdf(request, pk):
    """The programme's report as a PDF: its tables and bar charts (SVG), suppressed values not drawn."""
    programme = get_for_organisation_or_404(Programme.objects.select_related("sponsor"), request.organisation, pk=pk)
    try:
        period = _period(request, request.GET)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("sponsors:programme", pk=programme.pk)
    content = pdf.render_programme_report(programme=programme, period=period)
    suffix = "-".join(period.as_params().values())
    file_name = f"rapport-programme-{programme.pk}{'-' + suffix if suffix else ''}.pdf"
    record_download(
        request=request, document=programme, kind="reporting.programme_report_pdf", organisation=request.organisation,
        file_name=file_name,
    )  # fmt: skip
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    return never_stored(response)


@staff_required
def operator_exports(request):
    """The operator's row-level exports of redemptions and hand-overs, without personal data."""
    form = OperatorExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            period = _period(request, data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else "du", error.message)
        else:
            export = exports.source(kind=data["kind"], period=period)
            return _deliver(
                request, export, file_format=data["file_format"], organisation=None, params=period.as_params()
            )
    return render(
        request,
        "reporting/operator_exports.html",
        {
            "form": form,
            "jobs": export_selectors.operator_jobs(),
            "threshold": settings.PASSNUM_EXPORT_ASYNC_ROWS,
            "days": settings.PASSNUM_EXPORT_DAYS,
        },
        status=400 if form.errors else 200,
    )


@login_required
def export_job(request, pk):
    """A background export: its progress (refreshed every few seconds), then its link."""
    job = get_job_or_404(request, pk)
    working = job.status in (ExportJob.Status.PENDING, ExportJob.Status.RUNNING)
    return render(
        request,
        "reporting/export_job.html",
        {"job": job, "working": working, "expired": _expired(job)},
    )


@login_required
def export_download(request, pk):
    """The file of a finished export, for its organisation, within 7 days (410 after)."""
    job = get_job_or_404(request, pk)
    if _expired(job):
        return render(request, "reporting/export_expired.html", {"job": job}, status=410)
    if job.status != ExportJob.Status.DONE or not job.file:
        return redirect("reporting:export_job", pk=job.pk)
    if not job.file.storage.exists(job.file.name):
        raise Http404("Le fichier de cet export n'est plus disponible.")
    record_download(request=request, document=job, organisation=job.organisation, file_name=job.file_name)
    response = StreamingHttpResponse(_stored_file_pieces(job.file), content_type=exports.CONTENT_TYPES[job.file_format])
    response["Content-Disposition"] = content_disposition_header(True, job.file_name)
    return never_stored(response)


def get_job_or_404(request, pk):
    try:
        return export_selectors.export_jobs_visible(user=request.user, organisation=request.organisation).get(pk=pk)
    except ExportJob.DoesNotExist as error:
        raise Http404("Cet export n'existe pas ou n'appartient pas à votre organisation.") from error


def _expired(job) -> bool:
    return job.purged_at is not None or job.expires_at <= timezone.now()
