"""Demo: a programme of the demo sponsor with a paid, printed order, and booklets allocated to
the demo prescriber. Idempotent: found again by its prefix, nothing is added on a second run."""

from datetime import date

from django.utils import timezone

from passnum.passes import services as pass_services
from passnum.passes.models import Booklet, PrintRun
from sponsors import services
from sponsors.models import Order, Programme

PREFIX = "GIR"
BOOKLETS = 20
ALLOCATED = 8


def build(context):
    sponsor = context.organisations["sponsor"]
    prescriber = context.organisations["prescriber"]
    operator = context.users.get("operateur@demo.passnum.fr")
    programme = Programme.objects.filter(prefix=PREFIX).first()
    if programme is None:
        programme = services.create_programme(
            sponsor,
            {
                "name": "Pass numérique Gironde",
                "prefix": PREFIX,
                "face_value_cents": 1000,
                "passes_per_booklet": 10,
                "valid_until": date(timezone.localdate().year + 1, 12, 31),
                "grace_months": 1,
                "grace_days": 0,
                "departments": ["33"],
                "communes": ["33063", "33522"],
                "audiences": ["Seniors", "Demandeurs d'emploi", "Jeunes de 16 à 25 ans", "Aidants familiaux"],
                "cofunders": [("Agence nationale de la cohésion des territoires", 5000)],
                "contact_name": "Service inclusion numérique",
                "contact_email": "pass-numerique@demo.passnum.fr",
            },
        )
    order = programme.orders.exclude(status=Order.Status.CANCELLED).order_by("pk").first()
    if order is None:
        order = services.create_quote(programme, BOOKLETS)
    if order.status == Order.Status.QUOTE:
        services.confirm_order(order)
        order.refresh_from_db()
    if order.status == Order.Status.INVOICED:
        services.record_payment(order.invoice, paid_on=timezone.localdate(), reference="DEMO-VIR-0001", actor=operator)
        order.refresh_from_db()
    run = PrintRun.objects.filter(order=order, kind=PrintRun.Kind.FULL, status=PrintRun.Status.DONE).first()
    if run is None:
        run = pass_services.print_order_inline(order, chunk_size=10, actor=operator)
    if not Booklet.objects.filter(order=order, holder=prescriber).exists():
        pass_services.allocate_booklets(order, prescriber, count=ALLOCATED, actor=operator)

    context.output["programmes"] = [
        {
            "name": p.name,
            "prefix": p.prefix,
            "sponsor": p.sponsor.name,
            "orders": [
                {
                    "id": o.pk,
                    "number": o.number,
                    "booklets": o.booklet_count,
                    "status": o.status,
                    "total_cents": o.total_cents,
                }
                for o in p.orders.order_by("pk")
            ],
        }
        for p in Programme.objects.for_organisation(sponsor).select_related("sponsor").order_by("pk")
    ]
    context.output["print_runs"] = [
        {
            "order": run.order.number,
            "progress": f"{run.done_booklets} / {run.total_booklets}",
            "files": run.files.count(),
        }
    ]
    context.output["booklets_allocated"] = [
        {"serial": serial, "prescriber": name}
        for serial, name in Booklet.objects.filter(order=order, holder__isnull=False)
        .order_by("serial")
        .values_list("serial", "holder__name")[:5]
    ]
