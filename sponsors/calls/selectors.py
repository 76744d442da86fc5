"""Reads of calls for projects, for the funder (its own calls, what it received, what it owes)
and for sponsors (open calls, their applications). Always through ``for_organisation``."""

from datetime import date

from django.db.models import Count, Q
from django.utils import timezone

from clearing import selectors as clearing_selectors
from mediators.qualification.models import Audience
from passnum.organisations.models import Organisation
from sponsors.calls.models import Agreement, Application, Call, FunderStatement, ReceivedApplication
from sponsors.models import CoFunder


def audience_label(code: str) -> str:
    return Audience(code).label if code in Audience.values else code


def calls_of(*, funder: Organisation):
    return (
        Call.objects.for_organisation(funder)
        .annotate(
            application_count=Count("applications", filter=~Q(applications__status=Application.Status.DRAFT)),
            pending_count=Count("applications", filter=Q(applications__status=Application.Status.SUBMITTED)),
        )
        .order_by("-deadline", "-pk")
    )


def received_applications(*, funder: Organisation, call: Call | None = None, search: str = ""):
    """Applications the funder received (drafts are the sponsor's alone), best score first;
    ``search`` looks in the programme's and the sponsor's names."""
    applications = (
        ReceivedApplication.objects.for_organisation(funder)
        .exclude(status=Application.Status.DRAFT)
        .select_related("call", "programme", "sponsor")
    )
    if call is not None:
        applications = applications.filter(call=call)
    if search:
        applications = applications.filter(Q(programme__name__icontains=search) | Q(sponsor__name__icontains=search))
    return applications.order_by("call_id", "status", "-score", "submitted_at", "pk")


def agreements_of(*, funder: Organisation):
    return (
        Agreement.objects.for_organisation(funder).select_related("call", "programme", "sponsor").order_by("-signed_at")
    )


def statements_of(*, funder: Organisation):
    return FunderStatement.objects.for_organisation(funder).order_by("-year", "-quarter")


def open_calls(*, today: date | None = None):
    """Calls a sponsor may apply to: open, deadline (included) not passed."""
    today = today or timezone.localdate()
    return (
        Call.objects.filter(status=Call.Status.OPEN, deadline__gte=today)
        .select_related("funder")
        .order_by("deadline", "pk")
    )


def applications_of(*, sponsor: Organisation):
    return (
        Application.objects.for_organisation(sponsor)
        .select_related("call__funder", "programme")
        .order_by("-created_at", "-pk")
    )


def funded_shares(*, funder: Organisation) -> dict[int, dict]:
    """``{programme_id: {programme, sponsor, share_bp, agreement}}``: the programmes the funder
    co-funds (a co-funder row naming its organisation), with its share."""
    rows = (
        CoFunder.objects.filter(organisation=funder)
        .select_related("programme__sponsor", "agreement__call")
        .order_by("programme__name", "pk")
    )
    shares = {}
    for row in rows:
        entry = shares.setdefault(
            row.programme_id,
            {"programme": row.programme, "sponsor": row.programme.sponsor, "share_bp": 0, "agreement": None},
        )
        entry["share_bp"] += row.share_bp
        entry["agreement"] = getattr(row, "agreement", None) or entry["agreement"]
    return shares


def amounts_due(*, funder: Organisation, first_month: date | None = None, last_month: date | None = None) -> list[dict]:
    """Month by month (month of the clearing statements) and programme by programme: the value
    redeemed and settled to sites, the funder's share and the amount it owes for it. The amount is
    ``settled × share``, rounded to the nearest cent half up, in integer arithmetic. Two queries."""
    from sponsors.calls.services import share_of

    shares = funded_shares(funder=funder)
    settled = clearing_selectors.settled_value_by_programme_and_month(
        programme_ids=list(shares), first_month=first_month, last_month=last_month
    )
    lines = []
    for (programme_id, month), cents in settled.items():
        entry = shares[programme_id]
        lines.append(
            {
                "month": month,
                "programme_id": programme_id,
                "programme_name": entry["programme"].name,
                "sponsor_name": entry["sponsor"].name,
                "share_bp": entry["share_bp"],
                "settled_cents": cents,
                "amount_cents": share_of(cents, entry["share_bp"]),
            }
        )
    lines.sort(key=lambda line: (line["month"], line["programme_name"]))
    return lines


def funder_overview(*, funder: Organisation) -> dict:
    """What the funder's space shows: per programme what its share covers (settled value, amount
    due, cap of the agreement), and month by month totals."""
    lines = amounts_due(funder=funder)
    shares = funded_shares(funder=funder)
    programmes = []
    for programme_id, entry in shares.items():
        mine = [line for line in lines if line["programme_id"] == programme_id]
        programmes.append(
            {
                **entry,
                "settled_cents": sum(line["settled_cents"] for line in mine),
                "amount_cents": sum(line["amount_cents"] for line in mine),
            }
        )
    months = {}
    for line in lines:
        month = months.setdefault(line["month"], {"month": line["month"], "settled_cents": 0, "amount_cents": 0})
        month["settled_cents"] += line["settled_cents"]
        month["amount_cents"] += line["amount_cents"]
    return {
        "programmes": programmes,
        "lines": lines,
        "months": sorted(months.values(), key=lambda m: m["month"]),
        "total_cents": sum(line["amount_cents"] for line in lines),
    }
