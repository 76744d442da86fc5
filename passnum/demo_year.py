"""Demo: a year of realistic use of a 2,000-booklet programme of the demo sponsor.

Run by ``passnum/demo.py`` after every app's demo (the sites, the demo site's two closed months and
its payment batches exist). Over the last twelve months, four prescribers receive booklets and
hand them out with the seasons (fewer in summer, very few in August, peaks in autumn and January);
one of them (Libourne) stopped handing out five months ago, its stock idle; six Gironde sites
redeem passes for their services, one of them (the Grand Parc social centre in Bordeaux) far
more than the others. The programme ends in 25 days: its passes still usable are nearing expiry.
Then clearing closes each past month (a statement per site and month) and the operator pays
every statement but the last two months' in one batch.

Everything goes through the services, dated with their ``at`` / ``now`` argument (for the demo
and the tests only). Random but reproducible (a fixed seed). Idempotent: found again by its prefix.
"""

import datetime
import random

from django.utils import timezone

from beneficiaries import services as beneficiary_services
from clearing import services as clearing_services
from clearing.payments import services as payment_services
from mediators.qualification.models import QualificationStatus, Site
from mediators.redemption import services as redemption_services
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.organisations.validators import siret_from_prefix
from passnum.passes import services as pass_services
from passnum.passes.models import Pass
from sponsors import services as sponsor_services
from sponsors.models import Programme

PREFIX = "GIRY"
BOOKLETS = 2000
DAYS = 365
ENDS_IN_DAYS = 25
SEED = 2026
# Relative weight of each calendar month (January first): the scheme lives with the school year.
SEASON = [1.5, 1.0, 1.1, 1.0, 0.9, 0.75, 0.45, 0.15, 1.2, 1.6, 1.3, 0.8]
AUDIENCES = ["Seniors", "Demandeurs d'emploi", "Jeunes de 16 à 25 ans"]
AGE_BANDS = ["16-25", "26-44", "26-44", "45-59", "45-59", "60-74", "60-74", "60-74", "75+", "75+"]
COMMUNES = ["33063", "33063", "33063", "33281", "33318", "33522", "33039", "33243", "33009", "33119"]
# name, SIRET prefix, postcode, city, waves of booklets received [(days ago, booklets)], hand-overs
# (count, first and last day ago).
PRESCRIBERS = [
    ("CCAS de Mérignac", "263300030001", "33700", "Mérignac", [(365, 250), (200, 150), (40, 100)], (420, 360, 1)),
    ("France Services de Pessac", "263300040001", "33600", "Pessac", [(365, 200), (200, 120), (40, 80)], (340, 360, 1)),
    ("Mission locale Bordeaux", "263300050001", "33000", "Bordeaux", [(330, 160), (200, 90), (40, 60)], (260, 325, 1)),
    # The idle prescriber: a big delivery five months ago, a few hand-overs, then nothing.
    ("Accueil social de Libourne", "263300060001", "33500", "Libourne", [(150, 300)], (30, 148, 100)),
]  # fmt: skip
IDLE_PRESCRIBER = "Accueil social de Libourne"
BUSY_SITE = "Centre social du Grand Parc"
BUSY_WEIGHT = 5  # the busy site redeems five times as much as each other site
REDEMPTIONS = 2000


def build(context):
    programme = Programme.objects.filter(prefix=PREFIX).first()
    if programme is None:
        programme = _year_of_use(context)
    context.output["year_of_use"] = {
        "programme": programme.name,
        "booklets": BOOKLETS,
        "idle_prescriber": IDLE_PRESCRIBER,
        "busy_site": BUSY_SITE,
    }


def _year_of_use(context):
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate()
    operator = context.users.get("operateur@demo.passnum.fr")
    programme, order = _programme(context.organisations["sponsor"], operator, today)
    handed = []  # (when, serial)
    for name, siret_prefix, postcode, city, waves, (count, first_day, last_day) in PRESCRIBERS:
        prescriber = _prescriber(name, siret_prefix, postcode, city)
        stock = []  # (received at, serial), oldest first
        for days_ago, booklets in waves:
            at = _working_hours(now - datetime.timedelta(days=days_ago), rng)
            for booklet in pass_services.allocate_booklets(order, prescriber, count=booklets, actor=operator, at=at):
                stock.append((at, booklet.serial))
        handed += _hand_overs(prescriber, stock, count, first_day, last_day, now, rng)
    _redemptions(programme, sorted(handed), now, rng)
    _close_and_pay(today, operator)
    return programme


def _programme(sponsor, operator, today):
    programme = sponsor_services.create_programme(
        sponsor,
        {
            "name": "Pass numérique Gironde — une année",
            "prefix": PREFIX,
            "face_value_cents": 1000,
            "passes_per_booklet": 10,
            "valid_until": today + datetime.timedelta(days=ENDS_IN_DAYS),
            "grace_months": 0,
            "grace_days": 0,
            "departments": ["33"],
            "communes": [],
            "audiences": AUDIENCES,
            "cofunders": [],
            "contact_name": "Service inclusion numérique",
            "contact_email": "pass-numerique@demo.passnum.fr",
        },
    )
    order = sponsor_services.create_quote(programme, BOOKLETS)
    sponsor_services.confirm_order(order)
    order.refresh_from_db()
    sponsor_services.record_payment(order.invoice, paid_on=today, reference="DEMO-VIR-0003", actor=operator)
    order.refresh_from_db()
    return programme, order


def _prescriber(name, siret_prefix, postcode, city):
    organisation, _ = Organisation.objects.get_or_create(
        siret=siret_from_prefix(siret_prefix),
        defaults={"kind": OrganisationKind.PRESCRIBER, "name": name, "postcode": postcode, "city": city},
    )
    return organisation


def _working_hours(moment, rng):
    """The same day (Monday to Saturday, a Sunday moves to Monday), between 9 am and 5 pm."""
    local = timezone.localtime(moment)
    if local.weekday() == 6:
        local += datetime.timedelta(days=1)
    return local.replace(hour=rng.randint(9, 16), minute=rng.randint(0, 59), second=0, microsecond=0)


def _seasonal_moments(count, first_day, last_day, now, rng):
    """``count`` moments between ``first_day`` and ``last_day`` days ago, drawn with the seasons."""
    days = [now - datetime.timedelta(days=d) for d in range(first_day, last_day - 1, -1)]
    weights = [SEASON[timezone.localtime(day).month - 1] for day in days]
    moments = [_working_hours(day, rng) for day in rng.choices(days, weights=weights, k=count)]
    return sorted(min(moment, now - datetime.timedelta(hours=1)) for moment in moments)


def _hand_overs(prescriber, stock, count, first_day, last_day, now, rng):
    """Hands out the oldest booklet in stock at each moment (none received yet: that one waits)."""
    handed = []
    for i, when in enumerate(_seasonal_moments(count, first_day, last_day, now, rng)):
        available = [entry for entry in stock if entry[0] < when]
        if not available:
            continue
        stock.remove(available[0])
        serial = available[0][1]
        age_band = AGE_BANDS[rng.randrange(len(AGE_BANDS))]
        data = {
            "age_band": age_band,
            "commune": COMMUNES[rng.randrange(len(COMMUNES))],
            "audiences": ["Seniors"] if age_band in ("60-74", "75+") else [AUDIENCES[1 + (age_band == "16-25")]],
            "contact_consent": i % 5 == 0,
            "email": f"personne{i}@exemple.fr" if i % 5 == 0 else "",
        }
        beneficiary_services.hand_over(prescriber, serial, data, at=when)
        handed.append((when, serial))
    return handed


def _places():
    """The qualified Gironde sites but the demo site (its month of redemptions is its own), with
    their first place and their catalogue; the busy site weighs more."""
    places = []
    sites = (
        Site.objects.filter(status=QualificationStatus.QUALIFIED, organisation__postcode__startswith="33")
        .exclude(organisation__siret=siret_from_prefix("780330010001"))
        .select_related("organisation")
        .order_by("pk")
    )
    for site in sites:
        point = site.points.order_by("pk").first()
        items = list(site.catalogue.filter(is_active=True).select_related("service").order_by("service__code"))
        if point is not None and items:
            weight = BUSY_WEIGHT if site.organisation.name == BUSY_SITE else 1
            places.append((site.organisation, point, items, weight))
    return places


def _redemptions(programme, handed, now, rng):
    """``REDEMPTIONS`` redemptions drawn with the seasons over the year, each of a booklet handed
    out at least a day before, at a site drawn by its weight, for a service of its catalogue."""
    places = _places()
    if not places or not handed:
        return
    codes = {}
    for serial, code in (
        Pass.objects.filter(programme=programme, booklet__serial__in=[s for _, s in handed])
        .order_by("booklet__serial", "position")
        .values_list("booklet__serial", "code")
    ):
        codes.setdefault(serial, []).append(code)
    first_day = (now - handed[0][0]).days - 1
    moments = _seasonal_moments(REDEMPTIONS, first_day, 0, now, rng)
    weights = [place[3] for place in places]
    open_booklets, next_handed = [], 0
    for when in moments:
        while next_handed < len(handed) and handed[next_handed][0] < when - datetime.timedelta(days=1):
            open_booklets.append(handed[next_handed][1])
            next_handed += 1
        if not open_booklets:
            continue
        serial = open_booklets[rng.randrange(len(open_booklets))]
        organisation, point, items, _ = rng.choices(places, weights=weights)[0]
        item = rng.choice(items)
        left = codes[serial]
        if item.passes_required > len(left):
            item = next((i for i in items if i.passes_required <= len(left)), None)
            if item is None:
                continue
        taken, codes[serial] = left[: item.passes_required], left[item.passes_required :]
        if not codes[serial]:
            open_booklets.remove(serial)
        redemption_services.redeem(
            organisation,
            user=None,
            codes_entered=taken,
            service_code=item.service.code,
            point_id=point.pk,
            beneficiary_share_cents=0,
            now=when,
        )


def _close_and_pay(today, operator):
    """Each past month closed in turn (a statement per site), dated the first night of the next
    month; every statement but the last two months' paid in one batch (the demo site's are paid
    by clearing's own demo)."""
    months = []
    month = clearing_services.previous_month(today)
    for _ in range(12):
        months.insert(0, month)
        month = clearing_services.previous_month(month)
    for month in months:
        end = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        night = timezone.make_aware(datetime.datetime.combine(end, datetime.time(2)))
        clearing_services.close_month(month=month, now=night)
    from clearing.models import Statement, StatementStatus

    to_pay = list(Statement.objects.filter(status=StatementStatus.ISSUED, month__lt=months[-2], total_cents__gt=0))
    if to_pay:
        batch = payment_services.create_batch(statements=to_pay, by=operator).batch
        payment_services.mark_batch_sent(batch=batch, by=operator)
        payment_services.mark_batch_paid(batch=batch, by=operator)
