"""Demo of exports: the demo sponsor's programme report once exported in the background, as an
export above the threshold is, with its page and its link valid 7 days. Idempotent: nothing is
made once the sponsor has an export."""

from sponsors.models import Programme
from sponsors.reporting import exports, services
from sponsors.reporting.models import ExportFormat, ExportJob, ExportKind
from sponsors.reporting.periods import Period


def build(context):
    sponsor = context.organisations["sponsor"]
    user = context.users.get("commanditaire@demo.passnum.fr")
    programme = Programme.objects.for_organisation(sponsor).order_by("pk").first()
    if programme is None or ExportJob.objects.filter(organisation=sponsor).exists():
        return
    export = exports.source(kind=ExportKind.PROGRAMME_REPORT, period=Period(), programme=programme)
    job = services.start_export(
        user=user,
        organisation=sponsor,
        kind=ExportKind.PROGRAMME_REPORT,
        file_format=ExportFormat.CSV,
        params={"programme_id": programme.pk},
        row_count=export.count(),
        file_name=export.file_name(ExportFormat.CSV),
    )
    # Written now (the task submitted at commit finds it done): the demo's link works at once.
    job = services.write_export(job_id=job.pk)
    context.output["export"] = {"id": job.pk, "status": job.status}
