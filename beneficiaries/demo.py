"""Demo: a second prescriber with stock, a few dozen hand-overs (realistic age bands, Gironde
communes and audiences), and ``booklets_in_stock`` for the demo's JSON output. Idempotent: the
extra programme is found again by its prefix, hand-overs are made only up to the target count."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from beneficiaries import services
from beneficiaries.models import HandOver
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from sponsors import services as sponsor_services
from sponsors.models import Order, Programme

PREFIX = "GIRB"
BOOKLETS = 60
PER_PRESCRIBER = 24
HAND_OVERS = 36
PRESCRIBER_EMAIL = "prescripteur@demo.passnum.fr"
SECOND_PRESCRIBER = ("La Poste de Talence (France Services)", "263300020001", "33400", "Talence")
COMMUNES = ["33063", "33063", "33063", "33522", "33318", "33281", "33119", "33063", "33522", "33318"]
AGE_BANDS = ["16-25", "26-44", "26-44", "45-59", "45-59", "60-74", "60-74", "60-74", "75+", "75+"]
AUDIENCES = ["Seniors", "Demandeurs d'emploi", "Jeunes de 16 à 25 ans"]


def _second_prescriber():
    name, siret_prefix, postcode, city = SECOND_PRESCRIBER
    organisation, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix(siret_prefix),
        defaults={"kind": OrganisationKind.PRESCRIBER, "name": name, "postcode": postcode, "city": city},
    )
    return organisation


def _programme(sponsor, operator):
    programme = Programme.objects.filter(prefix=PREFIX).first()
    if programme is None:
        programme = sponsor_services.create_programme(
            sponsor,
            {
                "name": "Pass numérique Gironde — guichets",
                "prefix": PREFIX,
                "face_value_cents": 1000,
                "passes_per_booklet": 10,
                "valid_until": date(timezone.localdate().year + 1, 12, 31),
                "grace_months": 1,
                "grace_days": 0,
                "departments": ["33"],
                "communes": ["33063", "33522", "33318", "33281", "33119"],
                "audiences": AUDIENCES,
                "cofunders": [],
            },
        )
    order = programme.orders.exclude(status=Order.Status.CANCELLED).order_by("pk").first()
    if order is None:
        order = sponsor_services.create_quote(programme, BOOKLETS)
    if order.status == Order.Status.QUOTE:
        sponsor_services.confirm_order(order)
        order.refresh_from_db()
    if order.status == Order.Status.INVOICED:
        sponsor_services.record_payment(
            order.invoice, paid_on=timezone.localdate(), reference="DEMO-VIR-0002", actor=operator
        )
        order.refresh_from_db()
    return order


def _audiences(i, age_band):
    if age_band in ("60-74", "75+"):
        return ["Seniors"]
    if age_band == "16-25":
        return ["Jeunes de 16 à 25 ans"] + (["Demandeurs d'emploi"] if i % 3 == 0 else [])
    return ["Demandeurs d'emploi"]


def build(context):
    sponsor = context.organisations["sponsor"]
    prescriber = context.organisations["prescriber"]
    operator = context.users.get("operateur@demo.passnum.fr")
    agent = context.users.get(PRESCRIBER_EMAIL)
    second = _second_prescriber()
    order = _programme(sponsor, operator)
    for organisation in (prescriber, second):
        if not pass_selectors.booklets_held_by(organisation).filter(order=order).exists():
            pass_services.allocate_booklets(order, organisation, count=PER_PRESCRIBER, actor=operator)

    done = HandOver.objects.for_organisation(prescriber).count() + HandOver.objects.for_organisation(second).count()
    i = done
    for organisation in (prescriber, second):
        stock = pass_selectors.booklets_held_by(organisation).filter(order=order, state="allocated").order_by("serial")
        for booklet in list(stock[: max(0, HAND_OVERS // 2 - HandOver.objects.for_organisation(organisation).count())]):
            age_band = AGE_BANDS[i % len(AGE_BANDS)]
            data = {
                "age_band": age_band,
                "commune": COMMUNES[(i * 7) % len(COMMUNES)],
                "audiences": _audiences(i, age_band),
                "contact_consent": i % 4 == 0,
                "email": f"beneficiaire{i}@exemple.fr" if i % 4 == 0 else "",
            }
            with transaction.atomic():
                services.hand_over(
                    organisation, booklet.serial, data, user=agent if organisation == prescriber else None
                )
            i += 1

    context.output["booklets_in_stock"] = [
        {"serial": serial, "prescriber_email": PRESCRIBER_EMAIL}
        for serial in pass_selectors.booklets_held_by(prescriber)
        .filter(state="allocated")
        .order_by("serial")
        .values_list("serial", flat=True)[:10]
    ]
    context.output["hand_overs"] = HandOver.objects.live().count()
