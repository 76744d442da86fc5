"""Reads of clearing: a site's statements, their lines grouped for display, what is pending."""

from django.db.models import Count, Sum
from django.utils import timezone

from clearing.models import Adjustment, Statement, StatementLine, SubscriptionInvoice, SubscriptionNetting
from mediators.settlement import unsettled_redemptions
from passnum.organisations.tenancy import get_for_organisation_or_404


def statements_of(organisation, *, year: int | None = None):
    """The organisation's statements, newest first (a year of numbering, if given)."""
    statements = Statement.objects.for_organisation(organisation).select_related("site__organisation")
    if year is not None:
        statements = statements.filter(year=year)
    return statements.order_by("-month", "-number")


def statement_of(organisation, *, number: str) -> Statement:
    """One statement of the organisation by its number; 404 for another organisation's."""
    return get_for_organisation_or_404(
        Statement.objects.select_related("site__organisation"), organisation, number=number
    )


def statement_groups(*, statement: Statement) -> list[dict]:
    """The statement's lines by service and point de présence, with counts and totals (one query)."""
    rows = (
        StatementLine.objects.filter(statement=statement)
        .values("service__code", "service__title", "point_of_presence__name")
        .annotate(redemptions=Count("pk"), passes=Sum("pass_count"), cents=Sum("amount_cents"))
        .order_by("point_of_presence__name", "service__code")
    )
    return [
        {
            "service_code": row["service__code"],
            "service": row["service__title"],
            "point_of_presence": row["point_of_presence__name"],
            "redemptions": row["redemptions"],
            "passes": row["passes"],
            "amount_cents": row["cents"],
        }
        for row in rows
    ]


def statement_adjustments(*, statement: Statement):
    return Adjustment.objects.filter(statement=statement).order_by("created_at")


def pending_of(*, site) -> dict:
    """What the site's next statement holds so far: redemptions not yet on a statement (the
    current month's, and any earlier one left unsettled) and adjustments not yet carried."""
    redemptions = unsettled_redemptions(site_id=site.pk).aggregate(
        count=Count("pk"), cents=Sum("amount_cents"), passes=Sum("pass_count")
    )
    adjustments = Adjustment.objects.filter(site=site, statement__isnull=True).aggregate(
        count=Count("pk"), cents=Sum("amount_cents")
    )
    redemptions_cents, adjustments_cents = redemptions["cents"] or 0, adjustments["cents"] or 0
    return {
        "month": timezone.localdate().replace(day=1),
        "redemptions": redemptions["count"],
        "passes": redemptions["passes"] or 0,
        "redemptions_cents": redemptions_cents,
        "adjustments": adjustments["count"],
        "adjustments_cents": adjustments_cents,
        "total_cents": redemptions_cents + adjustments_cents,
    }


def statement_as_dict(statement: Statement, *, with_lines: bool = False) -> dict:
    body = {
        "number": statement.number,
        "month": f"{statement.month:%Y-%m}",
        "issued_at": statement.issued_at.isoformat(),
        "status": statement.status,
        "redemption_count": statement.redemption_count,
        "pass_count": statement.pass_count,
        "redemptions_cents": statement.redemptions_cents,
        "adjustments_cents": statement.adjustments_cents,
        "subscription_netted_cents": statement.subscription_netted_cents,
        "total_cents": statement.total_cents,
        "pdf_ready": bool(statement.pdf),
    }
    if with_lines:
        body["groups"] = statement_groups(statement=statement)
        body["adjustments"] = [
            {"amount_cents": a.amount_cents, "reason": a.reason} for a in statement_adjustments(statement=statement)
        ]
    return body


def subscription_invoices_of(organisation):
    return SubscriptionInvoice.objects.for_organisation(organisation).order_by("-year", "-number")


def subscription_invoice_of(organisation, *, number: str) -> SubscriptionInvoice:
    return get_for_organisation_or_404(SubscriptionInvoice.objects.all(), organisation, number=number)


def nets_subscription(*, site) -> bool:
    return SubscriptionNetting.objects.filter(site=site, enabled=True).exists()
