"""Reads of the pass instrument."""

from django.conf import settings
from django.db.models import Count, Q, Sum

from passnum.passes.models import Booklet, Pass, PassState, PrintRun
from passnum.passes.printing import Design


def design_for(programme):
    """The printed design of a programme (its cache key changes whenever the programme does)."""
    territory = ", ".join(
        [f"département {code}" for code in programme.departments] + [f"commune {c}" for c in programme.communes]
    )
    contact = " · ".join(x for x in (programme.contact_name, programme.contact_email, programme.contact_phone) if x)
    logo_url = ""
    if programme.logo:
        try:
            logo_url = programme.logo.path and f"file://{programme.logo.path}"
        except NotImplementedError:  # a storage without local paths
            logo_url = programme.logo.url
    return Design(
        key=f"{programme.pk}:{programme.updated_at.isoformat()}",
        programme_name=programme.name,
        sponsor_name=programme.sponsor.name,
        face_value_cents=programme.face_value_cents,
        passes_per_booklet=programme.passes_per_booklet,
        valid_until=programme.valid_until,
        site_url=settings.SITE_URL,
        territory=territory,
        contact=contact,
        logo_url=logo_url,
    )


def booklets_for_chunk(run, chunk):
    """``[(serial, [codes in position order])]`` of the booklets of a chunk of ``run``."""
    booklets = list(
        Booklet.objects.filter(order_id=run.order_id)
        .order_by("number")
        .values_list("pk", "serial")[chunk * run.chunk_size : (chunk + 1) * run.chunk_size]
    )
    codes = {}
    for booklet_id, code in (
        Pass.objects.filter(booklet_id__in=[pk for pk, _ in booklets])
        .order_by("position")
        .values_list("booklet_id", "code")
    ):
        codes.setdefault(booklet_id, []).append(code)
    return [(serial, codes[pk]) for pk, serial in booklets]


def print_runs_of(order):
    return PrintRun.objects.filter(order=order).prefetch_related("files")


def booklet_counts(booklets):
    """Booklets by state: issued, allocated, handed out, cancelled."""
    return booklets.aggregate(
        total=Count("pk"),
        created=Count("pk", filter=Q(state=Booklet.State.CREATED)),
        allocated=Count("pk", filter=Q(state=Booklet.State.ALLOCATED)),
        handed_out=Count("pk", filter=Q(state=Booklet.State.HANDED_OUT)),
        cancelled=Count("pk", filter=Q(state=Booklet.State.CANCELLED)),
    )


def value_by_state(programme):
    """Conservation: value issued per pass state, in cents."""
    rows = Pass.objects.filter(programme=programme).values("state").annotate(value=Sum("face_value_cents"))
    result = dict.fromkeys(PassState.values, 0)
    for row in rows:
        result[row["state"]] = row["value"]
    return result
