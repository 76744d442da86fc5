"""Use cases of calls for projects: a funder's calls, sponsors' applications, the funder's
decisions (a selected application becomes a co-funding agreement) and the funder's quarterly
statements.

Every rule is a ``check_*`` raising a ``DomainError`` whose code comes from ``passnum.refusals``
and whose message says, in French and with the figures, what to change. Nothing is written when a
check fails (each use case is one transaction).
"""

import io
from datetime import date, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from clearing.money import euros
from mediators.qualification.models import Audience
from passnum.audit.services import record
from passnum.errors import DomainError
from passnum.numbering.models import Series
from passnum.numbering.services import next_number
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.refusals import Refusal
from sponsors.calls.models import (
    Agreement,
    Application,
    Call,
    FunderStatement,
    FunderStatementLine,
)
from sponsors.models import CoFunder, Programme

MAX_TITLE = 200


class CallRefused(DomainError):
    code = "call_refused"


def percent(bp: int) -> str:
    """« 50 % », « 12,5 % » from basis points."""
    return f"{bp / 100:g}".replace(".", ",") + " %"


def share_of(cents: int, share_bp: int) -> int:
    """``cents × share``, rounded to the nearest cent, half up (integer arithmetic only)."""
    return (cents * share_bp + 5000) // 10000


# --- Calls ----------------------------------------------------------------------------------

CALL_FIELDS = (
    "title",
    "description",
    "max_share_bp",
    "min_purchase_cents",
    "max_purchase_cents",
    "deadline",
    "priority_audiences",
    "priority_min_bp",
)


def check_funder(organisation: Organisation | None) -> None:
    if organisation is None or organisation.kind != OrganisationKind.FUNDER:
        raise CallRefused("Seul un cofinanceur publie un appel à projets.", code=Refusal.CALL_INVALID)


def check_call_data(*, data: dict) -> None:
    """The call's rules are coherent: a title, a share of 0,01 to 100 %, a minimum purchase below
    the cap, known priority audiences and a minimum proportion of 0 to 100 %."""

    def refuse(message, field):
        raise CallRefused(message, code=Refusal.CALL_INVALID, field=field)

    if not (data.get("title") or "").strip():
        refuse("Indiquez le titre de l'appel à projets.", "title")
    share = data.get("max_share_bp")
    if not isinstance(share, int) or not 0 < share <= 10000:
        refuse("La part maximale du cofinanceur doit être comprise entre 0,01 % et 100 %.", "max_share_bp")
    minimum, cap = data.get("min_purchase_cents"), data.get("max_purchase_cents")
    if not isinstance(minimum, int) or minimum <= 0:
        refuse("L'achat minimal doit être positif.", "min_purchase_cents")
    if not isinstance(cap, int) or cap < minimum:
        refuse(
            f"Le plafond par projet ({euros(cap or 0)}) ne peut pas être inférieur à l'achat minimal "
            f"({euros(minimum)}).",
            "max_purchase_cents",
        )
    if not isinstance(data.get("deadline"), date):
        refuse("Indiquez la date limite de dépôt.", "deadline")
    unknown = [code for code in data.get("priority_audiences", []) if code not in Audience.values]
    if unknown:
        refuse(f"Public inconnu : {', '.join(unknown)}.", "priority_audiences")
    minimum_bp = data.get("priority_min_bp", 0)
    if not isinstance(minimum_bp, int) or not 0 <= minimum_bp <= 10000:
        refuse("La part minimale des publics prioritaires est comprise entre 0 et 100 %.", "priority_min_bp")
    if minimum_bp and not data.get("priority_audiences"):
        refuse("Choisissez les publics prioritaires auxquels s'applique la part minimale.", "priority_audiences")


@transaction.atomic
def create_call(*, funder: Organisation, data: dict, actor=None, request=None) -> Call:
    check_funder(funder)
    check_call_data(data=data)
    call = Call.objects.create(funder=funder, **{field: data[field] for field in CALL_FIELDS if field in data})
    record("calls.call.created", actor=actor, request=request, organisation=funder, target=call)
    return call


def _comparable(value):
    return sorted(value) if isinstance(value, list) else value  # the audiences' order means nothing


@transaction.atomic
def update_call(*, call: Call, data: dict, actor=None, request=None) -> Call:
    """A draft changes freely; an open call only its title, presentation and deadline (sponsors
    applied under its rules); a closed call not at all."""
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.status == Call.Status.CLOSED:
        raise CallRefused("Cet appel à projets est clos : il ne change plus.", code=Refusal.CALL_NOT_OPEN)
    if call.status == Call.Status.OPEN:
        for field in (
            "max_share_bp",
            "min_purchase_cents",
            "max_purchase_cents",
            "priority_audiences",
            "priority_min_bp",
        ):
            if field in data and _comparable(data[field]) != _comparable(getattr(call, field)):
                raise CallRefused(
                    "L'appel est publié : ses règles ne changent plus (seuls le titre, la présentation et la date "
                    "limite peuvent changer).",
                    code=Refusal.CALL_INVALID,
                    field=field,
                )
    check_call_data(data={**{f: getattr(call, f) for f in CALL_FIELDS}, **data})
    for field in CALL_FIELDS:
        if field in data:
            setattr(call, field, data[field])
    call.save()
    record("calls.call.changed", actor=actor, request=request, organisation=call.funder, target=call)
    return call


@transaction.atomic
def publish_call(*, call: Call, actor=None, request=None, today: date | None = None) -> Call:
    today = today or timezone.localdate()
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.status != Call.Status.DRAFT:
        raise CallRefused("Cet appel à projets est déjà publié.", code=Refusal.CALL_NOT_OPEN)
    if call.deadline < today:
        raise CallRefused(
            "La date limite de dépôt est passée : choisissez-en une à venir avant de publier.",
            code=Refusal.CALL_INVALID,
            field="deadline",
        )
    call.status, call.published_at = Call.Status.OPEN, timezone.now()
    call.save(update_fields=["status", "published_at"])
    record("calls.call.published", actor=actor, request=request, organisation=call.funder, target=call)
    return call


@transaction.atomic
def close_call(*, call: Call, actor=None, request=None) -> Call:
    call = Call.objects.select_for_update().get(pk=call.pk)
    if call.status != Call.Status.OPEN:
        raise CallRefused("Seul un appel ouvert peut être clos.", code=Refusal.CALL_NOT_OPEN)
    call.status, call.closed_at = Call.Status.CLOSED, timezone.now()
    call.save(update_fields=["status", "closed_at"])
    record("calls.call.closed", actor=actor, request=request, organisation=call.funder, target=call)
    return call


def check_call_accepts_applications(*, call: Call, today: date) -> None:
    """Open, and the deadline (included) not passed: a call past its deadline is closed for
    applications whatever its state says."""
    if call.status != Call.Status.OPEN:
        raise CallRefused(
            f"L'appel à projets « {call.title} » n'est pas ouvert : il n'accepte pas de candidature.",
            code=Refusal.CALL_NOT_OPEN,
        )
    if today > call.deadline:
        raise CallRefused(
            f"La date limite de dépôt de l'appel « {call.title} » était le {call.deadline:%d/%m/%Y} : "
            "la candidature arrive trop tard.",
            code=Refusal.CALL_DEADLINE_PASSED,
        )


# --- Applications ---------------------------------------------------------------------------


def purchase_amount(*, programme: Programme, booklet_count: int) -> int:
    """The face value of ``booklet_count`` booklets of the programme, in cents."""
    return booklet_count * programme.passes_per_booklet * programme.face_value_cents


def check_purchase(*, call: Call, amount_cents: int) -> None:
    if amount_cents < call.min_purchase_cents:
        raise CallRefused(
            f"L'achat prévu ({euros(amount_cents)}) est inférieur au minimum de l'appel "
            f"({euros(call.min_purchase_cents)}).",
            code=Refusal.PURCHASE_BELOW_MINIMUM,
            field="booklet_count",
        )
    if amount_cents > call.max_purchase_cents:
        raise CallRefused(
            f"L'achat prévu ({euros(amount_cents)}) dépasse le plafond par projet de l'appel "
            f"({euros(call.max_purchase_cents)}).",
            code=Refusal.PURCHASE_OVER_CAP,
            field="booklet_count",
        )


def check_share(*, call: Call, share_bp: int) -> None:
    if not isinstance(share_bp, int) or share_bp <= 0:
        raise CallRefused("Indiquez la part demandée au cofinanceur.", code=Refusal.SHARE_TOO_HIGH, field="share")
    if share_bp > call.max_share_bp:
        raise CallRefused(
            f"La part demandée ({percent(share_bp)}) dépasse la part maximale de l'appel "
            f"({percent(call.max_share_bp)}).",
            code=Refusal.SHARE_TOO_HIGH,
            field="share",
        )


def check_audiences(*, call: Call, audiences: dict[str, int]) -> None:
    """Known codes, each proportion of 0 to 100 %, 100 % at most in all; the call's priority
    audiences together at least its minimum proportion."""
    total = 0
    for code, bp in audiences.items():
        if code not in Audience.values or not isinstance(bp, int) or not 0 <= bp <= 10000:
            raise CallRefused(
                "Chaque public visé a une part comprise entre 0 et 100 %.",
                code=Refusal.AUDIENCES_INVALID,
                field="audiences",
            )
        total += bp
    if total > 10000:
        raise CallRefused(
            f"Les parts des publics visés font {percent(total)} : 100 % au plus.",
            code=Refusal.AUDIENCES_INVALID,
            field="audiences",
        )
    if call.priority_min_bp:
        priority = sum(bp for code, bp in audiences.items() if code in call.priority_audiences)
        if priority < call.priority_min_bp:
            labels = ", ".join(Audience(code).label.lower() for code in call.priority_audiences)
            raise CallRefused(
                f"Les publics prioritaires de l'appel ({labels}) ne reçoivent que {percent(priority)} des pass : "
                f"l'appel en demande au moins {percent(call.priority_min_bp)}.",
                code=Refusal.PRIORITY_AUDIENCES_UNDER_MINIMUM,
                field="audiences",
            )


def check_plan(*, call: Call, programme: Programme, booklet_count: int, share_bp: int, audiences: dict) -> int:
    """Every rule of the purchase plan; returns its amount in cents."""
    if not isinstance(booklet_count, int) or booklet_count <= 0:
        raise CallRefused(
            "Indiquez le nombre de carnets à acheter.", code=Refusal.PURCHASE_BELOW_MINIMUM, field="booklet_count"
        )
    amount = purchase_amount(programme=programme, booklet_count=booklet_count)
    check_purchase(call=call, amount_cents=amount)
    check_share(call=call, share_bp=share_bp)
    check_audiences(call=call, audiences=audiences)
    return amount


def _check_programme_of(*, sponsor: Organisation, programme: Programme) -> None:
    # A programme of another sponsor is not found (the views already answer 404 for it).
    if programme.sponsor_id != sponsor.pk:
        raise CallRefused("Ce programme n'existe pas ou n'appartient pas à votre organisation.", status=404)
    if not programme.is_open:
        raise CallRefused("Ce programme est clos : il ne peut pas candidater.", code=Refusal.PROGRAMME_CLOSED)


@transaction.atomic
def save_application(
    *,
    sponsor: Organisation,
    call: Call,
    programme: Programme,
    booklet_count: int,
    share_bp: int,
    audiences: dict[str, int],
    application: Application | None = None,
    actor=None,
    request=None,
    now: datetime | None = None,
) -> Application:
    """Creates or changes a draft application, every rule of the plan checked (the deadline is
    checked when it is submitted)."""
    now = now or timezone.now()
    if sponsor is None or sponsor.kind != OrganisationKind.SPONSOR:
        raise CallRefused("Seul un commanditaire candidate à un appel à projets.")
    _check_programme_of(sponsor=sponsor, programme=programme)
    call = Call.objects.select_for_update().get(pk=call.pk)
    check_call_accepts_applications(call=call, today=timezone.localdate(now))
    amount = check_plan(
        call=call, programme=programme, booklet_count=booklet_count, share_bp=share_bp, audiences=audiences
    )
    if application is None:
        application = Application(sponsor=sponsor)
    else:
        application = Application.objects.select_for_update().get(pk=application.pk, sponsor=sponsor)
        if application.status != Application.Status.DRAFT:
            raise CallRefused(
                "Cette candidature est déjà déposée : elle ne change plus.", code=Refusal.APPLICATION_NOT_PENDING
            )
    if Application.objects.filter(call=call, programme=programme).exclude(pk=application.pk).exists():
        raise CallRefused(
            f"Le programme « {programme.name} » a déjà une candidature à cet appel.",
            code=Refusal.APPLICATION_NOT_PENDING,
            field="programme",
        )
    application.call = call
    application.programme = programme
    application.booklet_count = booklet_count
    application.amount_cents = amount
    application.requested_share_bp = share_bp
    application.audiences = {code: bp for code, bp in audiences.items() if bp}
    application.save()
    record(
        "calls.application.saved",
        actor=actor,
        request=request,
        organisation=sponsor,
        target=application,
        after={"amount_cents": amount, "share_bp": share_bp, "booklets": booklet_count},
    )
    return application


@transaction.atomic
def submit_application(
    *, application: Application, actor=None, request=None, now: datetime | None = None
) -> Application:
    """Draft → submitted. Late (after the deadline day, Paris time) → refused, and the draft stays."""
    now = now or timezone.now()
    application = Application.objects.select_for_update().select_related("call", "programme").get(pk=application.pk)
    if application.status != Application.Status.DRAFT:
        raise CallRefused("Cette candidature est déjà déposée.", code=Refusal.APPLICATION_NOT_PENDING)
    call = application.call
    check_call_accepts_applications(call=call, today=timezone.localdate(now))
    # The call's rules, again: the plan was saved under them, but the programme may have changed.
    check_plan(
        call=call,
        programme=application.programme,
        booklet_count=application.booklet_count,
        share_bp=application.requested_share_bp,
        audiences=application.audiences,
    )
    application.status, application.submitted_at = Application.Status.SUBMITTED, now
    application.save(update_fields=["status", "submitted_at"])
    record(
        "calls.application.submitted",
        actor=actor,
        request=request,
        organisation=application.sponsor,
        target=application,
    )
    return application


def _pending(application_pk: int) -> Application:
    application = (
        Application.objects.select_for_update()
        .select_related("call__funder", "programme", "sponsor")
        .get(pk=application_pk)
    )
    if application.status != Application.Status.SUBMITTED:
        raise CallRefused(
            f"Cette candidature est « {application.get_status_display().lower()} » : elle n'attend pas de décision.",
            code=Refusal.APPLICATION_NOT_PENDING,
        )
    return application


@transaction.atomic
def score_application(*, application: Application, score: int, actor=None, request=None) -> Application:
    if not isinstance(score, int) or not 0 <= score <= 100:
        raise CallRefused("La note est un nombre entier de 0 à 100.", code=Refusal.CALL_INVALID, field="score")
    application = _pending(application.pk)
    application.score = score
    application.save(update_fields=["score"])
    record(
        "calls.application.scored",
        actor=actor,
        request=request,
        organisation=application.call.funder,
        target=application,
        after={"score": score},
    )
    return application


@transaction.atomic
def refuse_application(*, application: Application, reason: str, actor=None, request=None) -> Application:
    reason = (reason or "").strip()
    if not reason:
        raise CallRefused(
            "Indiquez le motif du refus : il est communiqué au commanditaire.",
            code=Refusal.DECISION_REASON_REQUIRED,
            field="reason",
        )
    application = _pending(application.pk)
    application.status, application.decision_reason = Application.Status.REFUSED, reason
    application.decided_at, application.decided_by = timezone.now(), actor
    application.save(update_fields=["status", "decision_reason", "decided_at", "decided_by"])
    record(
        "calls.application.refused",
        actor=actor,
        request=request,
        organisation=application.call.funder,
        target=application,
        after={"reason": reason},
    )
    return application


@transaction.atomic
def select_application(*, application: Application, reason: str = "", actor=None, request=None) -> Agreement:
    """Submitted → selected: the co-funding agreement, and the programme's co-funder row it holds.
    An existing row naming the funder (by its organisation, or by its name before the agreement)
    becomes the agreement's row, so the programme keeps one row per co-funder."""
    application = _pending(application.pk)
    call, funder, programme = application.call, application.call.funder, application.programme
    # The programme's co-funders are changed by its sponsor under this same lock.
    Programme.objects.select_for_update().filter(pk=programme.pk).first()
    rows = list(CoFunder.objects.filter(programme=programme).select_related("agreement"))
    row = next(
        (
            r
            for r in rows
            if not hasattr(r, "agreement")
            and (
                r.organisation_id == funder.pk
                or (r.organisation_id is None and r.name.strip().lower() == funder.name.lower())
            )
        ),
        None,
    )
    others = sum(r.share_bp for r in rows if r is not row)
    if others + application.requested_share_bp > 10000:
        raise CallRefused(
            f"Les autres cofinanceurs du programme ont déjà {percent(others)} : avec "
            f"{percent(application.requested_share_bp)} de plus, les parts dépasseraient 100 %.",
            code=Refusal.COFUNDING_OVER_100,
        )
    if row is None:
        row = CoFunder(programme=programme)
    row.name, row.organisation, row.share_bp = funder.name, funder, application.requested_share_bp
    row.save()
    now = timezone.now()
    application.status, application.decision_reason = Application.Status.SELECTED, (reason or "").strip()
    application.decided_at, application.decided_by = now, actor
    application.save(update_fields=["status", "decision_reason", "decided_at", "decided_by"])
    agreement = Agreement.objects.create(
        application=application,
        call=call,
        funder=funder,
        sponsor=application.sponsor,
        programme=programme,
        cofunder=row,
        share_bp=application.requested_share_bp,
        purchase_cents=application.amount_cents,
        max_contribution_cents=share_of(application.amount_cents, application.requested_share_bp),
        signed_at=now,
    )
    record(
        "calls.agreement.signed",
        actor=actor,
        request=request,
        organisation=funder,
        target=agreement,
        after={"share_bp": agreement.share_bp, "programme": programme.pk},
    )
    return agreement


# --- Quarterly statements -------------------------------------------------------------------


def quarter_months(*, year: int, quarter: int) -> tuple[date, date]:
    """First days of the quarter's first and last months."""
    first = 3 * (quarter - 1) + 1
    return date(year, first, 1), date(year, first + 2, 1)


def quarter_end(*, year: int, quarter: int) -> date:
    """The first day after the quarter."""
    return date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)


def previous_quarter(today: date) -> tuple[int, int]:
    quarter = (today.month - 1) // 3 + 1
    return (today.year - 1, 4) if quarter == 1 else (today.year, quarter - 1)


def check_quarter(*, year: int, quarter: int, today: date) -> None:
    if quarter not in (1, 2, 3, 4) or not 2015 <= year <= today.year:
        raise CallRefused(
            "Choisissez un trimestre de 1 à 4 d'une année passée ou en cours.", code=Refusal.QUARTER_NOT_ENDED
        )
    if today < quarter_end(year=year, quarter=quarter):
        raise CallRefused(
            f"Le {quarter}{'er' if quarter == 1 else 'e'} trimestre {year} n'est pas terminé : son relevé s'émet à "
            f"partir du {quarter_end(year=year, quarter=quarter):%d/%m/%Y}.",
            code=Refusal.QUARTER_NOT_ENDED,
        )


def render_funder_statement_pdf(*, statement: FunderStatement, lines: list[FunderStatementLine]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "funders/statement_pdf.html",
        {"statement": statement, "lines": lines, "issuer": settings.PASSNUM_OPERATOR_NAME},
    )
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


@transaction.atomic
def issue_funder_statement(
    *, funder: Organisation, year: int, quarter: int, actor=None, request=None, today: date | None = None
) -> FunderStatement:
    """The funder's statement of a quarter that has ended: for each programme it co-funds (a
    co-funder row naming it) and each month of the quarter's clearing statements, the settled
    value and its share of it, rounded to the cent half up per programme and month; the quarter is
    the sum of its lines. Numbered ``COF-AAAA-NNNNNN``; immutable once issued (trigger)."""
    today = today or timezone.localdate()
    check_funder(funder)
    check_quarter(year=year, quarter=quarter, today=today)
    funder = Organisation.objects.select_for_update().get(pk=funder.pk)  # one issue at a time per funder
    if FunderStatement.objects.filter(funder=funder, year=year, quarter=quarter).exists():
        raise CallRefused(
            f"Le relevé du trimestre {quarter} de {year} est déjà émis.", code=Refusal.FUNDER_STATEMENT_EXISTS
        )
    from sponsors.calls import selectors

    lines = selectors.amounts_due(
        funder=funder,
        first_month=quarter_months(year=year, quarter=quarter)[0],
        last_month=quarter_months(year=year, quarter=quarter)[1],
    )
    number = next_number(series=Series.COF, year=today.year)
    statement = FunderStatement(
        funder=funder,
        number=number,
        year=year,
        quarter=quarter,
        issued_at=timezone.now(),
        funder_name=funder.name,
        settled_cents=sum(line["settled_cents"] for line in lines),
        amount_cents=sum(line["amount_cents"] for line in lines),
    )
    rows = [
        FunderStatementLine(
            statement=statement,
            programme_id=line["programme_id"],
            programme_name=line["programme_name"],
            sponsor_name=line["sponsor_name"],
            month=line["month"],
            share_bp=line["share_bp"],
            settled_cents=line["settled_cents"],
            amount_cents=line["amount_cents"],
        )
        for line in lines
    ]
    statement.pdf.save(
        "releve.pdf", ContentFile(render_funder_statement_pdf(statement=statement, lines=rows)), save=False
    )
    statement.save()
    FunderStatementLine.objects.bulk_create(rows)
    record(
        "calls.funder_statement.issued",
        actor=actor,
        request=request,
        organisation=funder,
        target=statement,
        after={"number": number, "amount_cents": statement.amount_cents},
    )
    return statement


def issue_previous_quarter_statements(*, today: date | None = None) -> list[FunderStatement]:
    """The periodic task's work: every funder co-funding a programme gets its statement of the
    quarter that just ended, once (a funder whose statement exists is skipped)."""
    today = today or timezone.localdate()
    year, quarter = previous_quarter(today)
    funder_ids = set(
        CoFunder.objects.filter(organisation__kind=OrganisationKind.FUNDER).values_list("organisation_id", flat=True)
    )
    done = set(FunderStatement.objects.filter(year=year, quarter=quarter).values_list("funder_id", flat=True))
    issued = []
    for funder in Organisation.objects.filter(pk__in=funder_ids - done).order_by("pk"):
        issued.append(issue_funder_statement(funder=funder, year=year, quarter=quarter, today=today))
    return issued
