"""Reads of the background exports (kept apart from the report's selectors)."""

from django.db.models import Q

from sponsors.reporting.models import ExportJob


def export_jobs_visible(*, user, organisation):
    """The background exports a user may see: their organisation's, and for the operator's
    staff, the operator's own (no organisation). Another organisation's export is not found."""
    jobs = ExportJob.objects.for_organisation(organisation)
    if user.is_staff:
        jobs = ExportJob.objects.filter(Q(pk__in=jobs.values("pk")) | Q(organisation__isnull=True))
    return jobs.select_related("owner")


def operator_jobs(*, limit: int = 20):
    """The operator's latest background exports."""
    return ExportJob.objects.filter(organisation__isnull=True).select_related("owner")[:limit]
