"""Demo of calls for projects: the demo funder's call, closed since its deadline, with three
applications of the demo sponsor — one selected (its agreement attached to the programme with the
most settled value, the Gironde programme by default), one refused for its share, one prepared but
submitted after the deadline (refused as late, left a draft) — and the funder's statement of the
last quarter. Idempotent: the call is found again by its title."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from clearing import selectors as clearing_selectors
from passnum.errors import DomainError
from sponsors import services as sponsor_services
from sponsors.calls import services
from sponsors.calls.models import Application, Call, FunderStatement
from sponsors.models import Programme

TITLE = "Appel à projets Pass numérique — achat de pass par les collectivités"
PRIORITY = ["job_seekers", "youth"]
REFUSED_FOR_SHARE = (
    "Part demandée trop élevée : l'enveloppe restante de l'appel permet 30 % au plus pour ce projet. "
    "Vous pouvez candidater de nouveau au prochain appel avec une part plus faible."
)
OTHER_PROGRAMMES = [
    # prefix, name, booklets, share (bp), audiences (bp)
    ("GIRJ", "Pass numérique Gironde — jeunes", 500, 5000, {"youth": 7000, "students": 3000}),
    ("GIRS", "Pass numérique Gironde — seniors", 300, 4000, {"seniors": 5000, "job_seekers": 5000}),
]


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


def _programme(sponsor, prefix, name, today):
    programme = Programme.objects.filter(prefix=prefix).first()
    if programme is None:
        programme = sponsor_services.create_programme(
            sponsor,
            {
                "name": name,
                "prefix": prefix,
                "valid_until": date(today.year + 1, 12, 31),
                "departments": ["33"],
                "communes": [],
                "audiences": [],
                "cofunders": [],
            },
        )
    return programme


def _selected_programme(sponsor):
    """The demo sponsor's open programme with the most value settled to sites (the one with a
    year of use, if the demo built one), else the Gironde programme."""
    programmes = list(Programme.objects.for_organisation(sponsor).filter(status=Programme.Status.OPEN))
    settled = clearing_selectors.settled_value_by_programme_and_month(programme_ids=[p.pk for p in programmes])
    totals = {}
    for (programme_id, _month), cents in settled.items():
        totals[programme_id] = totals.get(programme_id, 0) + cents
    best = max(programmes, key=lambda p: (totals.get(p.pk, 0), p.prefix == "GIR"), default=None)
    return best


def build(context):
    funder, sponsor = context.organisations["funder"], context.organisations["sponsor"]
    funder_user = context.users.get("cofinanceur@demo.passnum.fr")
    sponsor_user = context.users.get("commanditaire@demo.passnum.fr")
    today = timezone.localdate()
    deadline = today - timedelta(days=20)
    call = Call.objects.filter(funder=funder, title=TITLE).first()
    notes = []
    if call is None:
        call = services.create_call(
            funder=funder,
            data={
                "title": TITLE,
                "description": "L'État paie au plus la moitié des pass achetés par une collectivité, sur les pass "
                "utilisés. Au moins la moitié des pass pour les demandeurs d'emploi et les jeunes.",
                "max_share_bp": 5000,
                "min_purchase_cents": 20_000_00,
                "max_purchase_cents": 3_000_000_00,
                "deadline": deadline,
                "priority_audiences": PRIORITY,
                "priority_min_bp": 5000,
            },
            actor=funder_user,
        )
        # The demo goes back in time: published two months ago, applications before the deadline.
        services.publish_call(call=call, actor=funder_user, today=deadline - timedelta(days=40))
        before = _at(deadline - timedelta(days=10))
        selected = _selected_programme(sponsor)
        if selected is not None:
            application = services.save_application(
                sponsor=sponsor,
                call=call,
                programme=selected,
                booklet_count=2000,
                share_bp=5000,
                audiences={"job_seekers": 3000, "youth": 2500, "seniors": 3000},
                actor=sponsor_user,
                now=before,
            )
            services.submit_application(application=application, actor=sponsor_user, now=before)
            services.score_application(application=application, score=82, actor=funder_user)
            try:
                services.select_application(
                    application=application,
                    reason="Projet complet, publics prioritaires bien servis.",
                    actor=funder_user,
                )
            except DomainError as error:
                notes.append(error.message)
        refused_prefix, refused_name, booklets, share, audiences = OTHER_PROGRAMMES[0]
        application = services.save_application(
            sponsor=sponsor,
            call=call,
            programme=_programme(sponsor, refused_prefix, refused_name, today),
            booklet_count=booklets,
            share_bp=share,
            audiences=audiences,
            actor=sponsor_user,
            now=before,
        )
        services.submit_application(application=application, actor=sponsor_user, now=before)
        services.score_application(application=application, score=55, actor=funder_user)
        services.refuse_application(application=application, reason=REFUSED_FOR_SHARE, actor=funder_user)
        late_prefix, late_name, booklets, share, audiences = OTHER_PROGRAMMES[1]
        application = services.save_application(
            sponsor=sponsor,
            call=call,
            programme=_programme(sponsor, late_prefix, late_name, today),
            booklet_count=booklets,
            share_bp=share,
            audiences=audiences,
            actor=sponsor_user,
            now=_at(deadline),
        )
        try:  # submitted today, after the deadline: refused, the draft stays
            services.submit_application(application=application, actor=sponsor_user)
        except DomainError as error:
            notes.append(error.message)
        services.close_call(call=call, actor=funder_user)
    year, quarter = services.previous_quarter(today)
    statement = FunderStatement.objects.filter(funder=funder, year=year, quarter=quarter).first()
    if statement is None:
        statement = services.issue_funder_statement(funder=funder, year=year, quarter=quarter, actor=funder_user)
    context.output["call_for_projects"] = {
        "title": call.title,
        "funder_email": "cofinanceur@demo.passnum.fr",
        "applications": [
            {"programme": a.programme.name, "status": a.status, "reason": a.decision_reason}
            for a in Application.objects.filter(call=call).select_related("programme").order_by("pk")
        ],
        "notes": notes,
    }
    context.output["funder_statements"] = [
        {"number": statement.number, "quarter": f"T{quarter} {year}", "amount_cents": statement.amount_cents}
    ]
