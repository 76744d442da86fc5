"""Reads of beneficiaries and hand-overs (a prescriber sees only its own; sponsors never see a person)."""

from django.db.models import Case, Count, F, Max, Min, When
from django.db.models.functions import Substr
from django.utils import timezone

from beneficiaries.models import HandOver, LossDeclaration
from passnum import sql_text
from passnum.organisations.enums import OrganisationKind
from passnum.passes import codes
from passnum.passes import selectors as pass_selectors
from passnum.passes.models import PassState
from passnum.passes.validity import is_expired


def hand_overs_of(organisation):
    return (
        HandOver.objects.for_organisation(organisation)
        .select_related("booklet", "beneficiary", "user")
        .order_by("-at", "-pk")
    )


def live_hand_over_of_booklet(booklet):
    return HandOver.objects.live().filter(booklet=booklet).select_related("beneficiary").first()


def losses_of(organisation):
    return LossDeclaration.objects.for_organisation(organisation).select_related("booklet", "hand_over")


def replaceable_loss(organisation, serial):
    """The loss declaration of a handed-out booklet, by its serial, still awaiting a replacement."""
    declaration = (
        losses_of(organisation)
        .filter(booklet__serial=serial, hand_over__isnull=False)
        .select_related("hand_over__beneficiary")
        .first()
    )
    if declaration is None or HandOver.objects.live().filter(replaces=declaration.hand_over).exists():
        return None
    return declaration


def hand_over_counts_by_age_band(programme):
    """Aggregates for reporting: live hand-overs of a programme by age band (survive the purge)."""
    return dict(
        HandOver.objects.live()
        .filter(booklet__programme=programme)
        .values_list("beneficiary__age_band")
        .annotate(n=Count("pk"))
    )


def hand_over_by_submission(organisation, submission_key):
    """The hand-over a form submission already made (a double click, a retry), or ``None``."""
    if not submission_key:
        return None
    return (
        HandOver.objects.for_organisation(organisation)
        .filter(submission_key=str(submission_key)[:64])
        .select_related("booklet")
        .first()
    )


# --- « Vérifier mon pass » (public) -------------------------------------------------------------

STATE_TEXT = {
    PassState.CREATED: "Ce pass n'est pas encore activé : il le sera quand un prescripteur vous remettra le carnet.",
    PassState.ACTIVE: "Ce pass est utilisable.",
    PassState.REDEEMED: "Ce pass a déjà été utilisé.",
    PassState.EXPIRED: "Ce pass a expiré : sa date de validité est passée.",
    PassState.CANCELLED: "Ce pass a été annulé (carnet déclaré perdu ou volé).",
}


SERIAL_NEEDS_SIGN_IN = (
    "Ce numéro est celui d'un carnet. Pour savoir ce qu'il reste sur votre carnet, tapez le code "
    "d'un de ses pass (13 caractères, par exemple ABCD-EFGH-JKMN-P) : il est imprimé sous le QR code. "
    "Seuls les guichets des prescripteurs, connectés, cherchent un carnet par son numéro."
)


def may_look_up_serials(*, user, organisation) -> bool:
    """Serials are sequential (anyone can count through them): only a signed-in counter (a
    member of a prescriber) or the operator may look a booklet up by its serial."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_staff:
        return True
    return organisation is not None and organisation.kind in (OrganisationKind.PRESCRIBER, OrganisationKind.OPERATOR)


def pass_or_booklet_status(text, *, serials_allowed: bool = False):
    """What « check my pass » shows for a typed pass code (and, when ``serials_allowed``, a
    booklet serial), with no personal data: a dict for the templates of /verifier/ and of a
    pass's QR page."""
    text = (text or "").strip()[:300]
    serial = pass_selectors.normalise_serial(text)
    if pass_selectors.SERIAL.match(serial):
        if not serials_allowed:
            return {"error": SERIAL_NEEDS_SIGN_IN}
        booklet = pass_selectors.booklet_by_serial(serial)
        if booklet is None:
            return {"error": "Aucun carnet ne porte ce numéro : vérifiez le numéro imprimé sur le carnet."}
        summary = pass_selectors.booklet_summary(booklet)
        return {"kind": "booklet", "serial": booklet.serial, "programme": booklet.programme.name, **summary}
    parsed = codes.parse(text)
    if not parsed.ok:
        if parsed.error == codes.MISTYPED:
            return {"error": codes.ERROR_MESSAGES[codes.MISTYPED]}
        return {
            "error": "Ce texte n'est ni un code de pass (13 caractères, par exemple ABCD-EFGH-JKMN-P) "
            "ni un numéro de carnet (par exemple GIR000123)."
        }
    item = pass_selectors.pass_by_code(parsed.code)
    if item is None and pass_selectors.is_typo(code=parsed.code):
        return {"error": codes.ERROR_MESSAGES[codes.MISTYPED]}
    if item is None:
        return {"error": "Ce code est bien formé mais ne correspond à aucun pass : vérifiez-le sur votre carnet."}
    summary = pass_selectors.booklet_summary(item.booklet)
    state = item.state
    today = timezone.localdate()
    if state == PassState.ACTIVE and is_expired(state=state, expires_on=item.expires_on, scanned_on=today, today=today):
        state = PassState.EXPIRED  # past its last day: the nightly expiry has not run yet, the truth is the same
    return {
        "kind": "pass",
        "code": codes.grouped(item.code),
        "state_text": STATE_TEXT.get(state, ""),
        "usable_pass": state == PassState.ACTIVE,
        "face_value_cents": item.face_value_cents,
        "programme": item.programme.name,
        "pass_valid_until": item.valid_until,
        **summary,
    }


# --- Reporting: a programme's live hand-overs, aggregated (read by sponsors/reporting) ----------


def _programme_hand_overs(*, programme_id: int, start=None, end=None):
    hand_overs = HandOver.objects.live().filter(booklet__programme_id=programme_id)
    if start is not None:
        hand_overs = hand_overs.filter(at__gte=start)
    if end is not None:
        hand_overs = hand_overs.filter(at__lt=end)
    return hand_overs


def programme_hand_overs_by_prescriber(*, programme_id: int, start=None, end=None) -> list[dict]:
    """``[{"prescriber_id", "prescriber_name", "count", "first", "last"}]`` — one GROUP BY."""
    return list(
        _programme_hand_overs(programme_id=programme_id, start=start, end=end)
        .values(prescriber_id=F("organisation_id"), prescriber_name=F("organisation__name"))
        .annotate(count=Count("pk"), first=Min("at"), last=Max("at"))
        .order_by("prescriber_name", "prescriber_id")
    )


def programme_hand_overs_by_department(*, programme_id: int, start=None, end=None) -> list[dict]:
    """Per department of the beneficiary's commune (three characters overseas): ``[{"department",
    "count"}]`` — one GROUP BY; the commune survives the purge of personal data."""
    commune = F("beneficiary__commune")
    department = Case(
        When(beneficiary__commune__startswith="97", then=Substr(commune, 1, 3)),
        default=Substr(commune, 1, 2),
    )
    return list(
        _programme_hand_overs(programme_id=programme_id, start=start, end=end)
        .annotate(department=department)
        .values("department")
        .annotate(count=Count("pk"))
        .order_by("department")
    )


def hand_over_export_rows(*, start=None, end=None, programme_id: int | None = None, as_text: bool = False):
    """Every hand-over (undone ones too) made in ``[start, end)``, oldest first, as tuples for the
    operator's row-level export — without personal data: the person's department (not their
    commune) and age band, never their name, contact, commune or booklet serial, nor the free
    text of an exception. ``as_text`` (PostgreSQL only): each row as its CSV line, written by the
    database (``passnum.sql_text``)."""
    commune = F("beneficiary__commune")
    department = Case(
        When(beneficiary__commune__startswith="97", then=Substr(commune, 1, 3)),
        default=Substr(commune, 1, 2),
    )
    hand_overs = HandOver.objects.all()
    if programme_id is not None:
        hand_overs = hand_overs.filter(booklet__programme_id=programme_id)
    if start is not None:
        hand_overs = hand_overs.filter(at__gte=start)
    if end is not None:
        hand_overs = hand_overs.filter(at__lt=end)
    hand_overs = hand_overs.annotate(department=department).order_by("at", "pk")
    if as_text:
        line = sql_text.csv_line(
            sql_text.text("pk"),
            sql_text.local_datetime_text("at"),
            sql_text.text("booklet__programme_id"),
            sql_text.csv_cell("booklet__programme__name"),
            sql_text.text("organisation__siret"),
            sql_text.csv_cell("organisation__name"),
            sql_text.text("department"),
            sql_text.text("beneficiary__age_band"),
            sql_text.yes_no_text("is_exception"),
            sql_text.local_datetime_text("undone_at"),
        )
        return hand_overs.values_list(line)
    return hand_overs.values_list(
        "pk",
        "at",
        "booklet__programme_id",
        "booklet__programme__name",
        "organisation__siret",
        "organisation__name",
        "department",
        "beneficiary__age_band",
        "is_exception",
        "undone_at",
    )
