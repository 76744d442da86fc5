"""Reads of the business grant: schemes, applications for each side, the facts the eligibility
rules read, what remains to pay, and the authority's report."""

import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone

from passnum.organisations.enums import Role
from passnum.organisations.models import Membership, Organisation
from sponsors.grants import eligibility
from sponsors.grants.enums import ApplicationStatus, InstalmentStatus
from sponsors.grants.models import GrantApplication, GrantScheme, Instalment


def open_schemes() -> list[GrantScheme]:
    """The schemes a company may apply to (their rules are public)."""
    return list(GrantScheme.objects.filter(is_open=True).select_related("sponsor"))


def schemes_of(*, sponsor: Organisation):
    return GrantScheme.objects.for_organisation(sponsor)


def applications_of(*, organisation: Organisation):
    """The applications an organisation sees: its own (company) or its schemes' (sponsor)."""
    return GrantApplication.objects.for_organisation(organisation).select_related(
        "scheme__sponsor", "company", "assigned_to"
    )


def queue(*, sponsor: Organisation, status: str = "", assigned_to=None, search: str = ""):
    """The sponsor's applications past the draft (a company's draft is its own business)."""
    applications = (
        GrantApplication.objects.filter(scheme__sponsor=sponsor)
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("company", "assigned_to", "scheme")
        .order_by("submitted_at", "pk")
    )
    if status:
        applications = applications.filter(status=status)
    if assigned_to is not None:
        applications = applications.filter(assigned_to=assigned_to)
    search = (search or "").strip()
    if search:
        # Its number (« PNE-2026-000012 », or a part of it), the company (name, SIRET) or the project.
        applications = applications.filter(
            Q(number__icontains=search)
            | Q(company__name__icontains=search)
            | Q(project_title__icontains=search)
            | Q(company__siret=search)
        )
    return applications


def last_grant_on(*, company: Organisation, scheme: GrantScheme, exclude_pk=None) -> datetime.date | None:
    """The day of the company's latest grant in the scheme (the renewal rule's start)."""
    latest = (
        GrantApplication.objects.filter(company=company, scheme=scheme, status=ApplicationStatus.GRANTED)
        .exclude(pk=exclude_pk)
        .order_by("-decided_at")
        .values_list("decided_at", flat=True)
        .first()
    )
    return timezone.localtime(latest).date() if latest else None


def first_grant(*, company: Organisation, scheme: GrantScheme, exclude_pk=None) -> GrantApplication | None:
    """The company's first granted application in the scheme: a renewal links to it."""
    return (
        GrantApplication.objects.filter(company=company, scheme=scheme, status=ApplicationStatus.GRANTED)
        .exclude(pk=exclude_pk)
        .order_by("decided_at", "pk")
        .first()
    )


def facts_of(*, application: GrantApplication, filed_on: datetime.date | None = None) -> eligibility.Facts:
    return eligibility.Facts(
        headcount=application.headcount,
        lines=[(line.category, line.amount_cents) for line in application.lines.all()],
        start_date=application.start_date,
        end_date=application.end_date,
        requested_amount_cents=application.requested_amount_cents,
        commune_code=application.commune_code,
        documents=set(application.documents.values_list("kind", flat=True)),
        last_grant_on=last_grant_on(company=application.company, scheme=application.scheme, exclude_pk=application.pk),
        filed_on=filed_on or _filed_on(application),
    )


def _filed_on(application):
    if application.submitted_at is not None:
        return timezone.localtime(application.submitted_at).date()
    return timezone.localdate()


def checks_of(*, application: GrantApplication) -> list[eligibility.RuleResult]:
    return eligibility.evaluate(scheme=application.scheme, facts=facts_of(application=application))


def total_expenditure_cents(*, application: GrantApplication) -> int:
    return application.lines.aggregate(total=Sum("amount_cents"))["total"] or 0


def committed_cents(*, application: GrantApplication) -> int:
    """Accepted (to pay) or paid instalments."""
    return (
        application.instalments.filter(status__in=[InstalmentStatus.ACCEPTED, InstalmentStatus.PAID]).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )


def remaining_cents(*, application: GrantApplication) -> int:
    """What remains of the granted amount once accepted and paid instalments are counted."""
    return (application.granted_amount_cents or 0) - committed_cents(application=application)


def claimable_cents(*, application: GrantApplication) -> int:
    """What a new invoice may still claim: the granted amount less the invoices accepted, paid or
    waiting to be examined."""
    claimed = (
        application.instalments.exclude(status=InstalmentStatus.REFUSED).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )
    return (application.granted_amount_cents or 0) - claimed


def instructors(*, sponsor: Organisation):
    """The sponsor's members who may be assigned an application."""
    return (
        Membership.objects.active()
        .filter(organisation=sponsor)
        .select_related("user")
        .order_by("user__last_name", "user__email")
    )


def admin_emails(*, organisation: Organisation) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(organisation=organisation, role__in=[Role.ADMIN, Role.FINANCE])
        .values_list("user__email", flat=True)
    )


def accepted_to_pay(*, sponsor: Organisation | None = None):
    """Instalments accepted and not yet paid: what the payment step picks up."""
    instalments = Instalment.objects.filter(status=InstalmentStatus.ACCEPTED).select_related(
        "application__company", "application__scheme"
    )
    if sponsor is not None:
        instalments = instalments.filter(application__scheme__sponsor=sponsor)
    return instalments


def report(*, sponsor: Organisation) -> dict:
    """Applications by state, amounts requested / granted / paid, by NAF sector and by commune
    (a fixed number of queries, whatever the number of applications)."""
    applications = GrantApplication.objects.filter(scheme__sponsor=sponsor).exclude(status=ApplicationStatus.DRAFT)
    paid = Sum("instalments__amount_cents", filter=Q(instalments__status=InstalmentStatus.PAID))
    by_status = dict(applications.values_list("status").annotate(count=Count("pk")))

    def grouped(key):
        rows = (
            applications.values(key)
            .annotate(
                count=Count("pk", distinct=True),
                requested=Sum("requested_amount_cents", distinct=False),
                granted=Sum("granted_amount_cents", filter=Q(status=ApplicationStatus.GRANTED)),
            )
            .order_by(key)
        )
        paid_by = dict(applications.values(key).annotate(paid=paid).values_list(key, "paid"))
        return [
            {
                "key": row[key] or "—",
                "count": row["count"],
                "requested": row["requested"] or 0,
                "granted": row["granted"] or 0,
                "paid": paid_by.get(row[key]) or 0,
            }
            for row in rows
        ]

    sectors = grouped("naf_code")
    communes = grouped("commune_code")
    from passnum.territories import selectors as territory_selectors

    labels = territory_selectors.commune_labels(codes=[row["key"] for row in communes if row["key"] != "—"])
    for row in communes:
        row["label"] = labels.get(row["key"], row["key"])
    totals = applications.aggregate(
        requested=Sum("requested_amount_cents"),
        granted=Sum("granted_amount_cents", filter=Q(status=ApplicationStatus.GRANTED)),
    )
    totals["paid"] = (
        Instalment.objects.filter(application__scheme__sponsor=sponsor, status=InstalmentStatus.PAID).aggregate(
            total=Sum("amount_cents")
        )["total"]
        or 0
    )
    return {
        "by_status": [
            {"status": status, "label": label, "count": by_status.get(status, 0)}
            for status, label in ApplicationStatus.choices
            if status != ApplicationStatus.DRAFT
        ],
        "sectors": sectors,
        "communes": communes,
        "totals": {key: value or 0 for key, value in totals.items()},
    }
