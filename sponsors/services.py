"""Use cases of sponsors: programmes, orders (quote → invoice → payment) and invoices.

Every refusal is a ``DomainError`` with a French message; nothing is written when a check fails.
"""

import io
import re
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from passnum import audiences as audience_codes
from passnum.audit.services import record, snapshot
from passnum.errors import DomainError
from passnum.numbering.models import Series
from passnum.numbering.services import next_number, sequence_of
from passnum.organisations.enums import OrganisationKind
from passnum.organisations.models import Organisation
from passnum.passes import services as pass_services
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors
from sponsors.models import CoFunder, Order, Programme, ProgrammeAudience, SponsorInvoice, SponsorPayment

MIN_BOOKLETS, MAX_BOOKLETS = 1, 5000
MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_LOGO_PIXELS = 4000
MAX_GRACE_MONTHS = 12
MAX_GRACE_DAYS = 90
MAX_FACE_VALUE_CENTS = 100_00
DEPARTMENT = re.compile(r"^(\d{2,3}|2[AB])$")
COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
PREFIX = re.compile(r"^[A-Z]{2,6}$")


def fee_rate_bp():
    """The operator's fee on a sponsor's purchase, in basis points (400 = 4 % HT)."""
    return settings.PASSNUM_SPONSOR_FEE_RATE_BP


def vat_rate_bp():
    return settings.PASSNUM_VAT_RATE_BP


class ProgrammeRefused(DomainError):
    code = "programme_invalid"


class OrderRefused(DomainError):
    code = "order_refused"


class PaymentRefused(DomainError):
    code = "payment_refused"


# --- Validators -----------------------------------------------------------------------------


def check_sponsor(organisation):
    if organisation is None or organisation.kind != OrganisationKind.SPONSOR:
        raise ProgrammeRefused("Seul un commanditaire peut créer un programme.")


def check_prefix(prefix, *, programme=None):
    if not PREFIX.match(prefix or ""):
        raise ProgrammeRefused(
            "Le préfixe compte 2 à 6 lettres majuscules sans accent, par exemple GIR.", field="prefix"
        )
    others = Programme.objects.filter(prefix=prefix)
    if programme is not None:
        others = others.exclude(pk=programme.pk)
    if others.exists():
        raise ProgrammeRefused("Ce préfixe est déjà pris par un autre programme.", field="prefix")


def check_valid_until(valid_until, *, today=None):
    today = today or timezone.localdate()
    if valid_until is None:
        raise ProgrammeRefused("Indiquez la date de fin de validité des pass.", field="valid_until")
    if valid_until <= today:
        raise ProgrammeRefused("La date de fin de validité doit être dans le futur.", field="valid_until")
    if valid_until.year > today.year + 5:
        raise ProgrammeRefused("La validité ne peut pas dépasser cinq ans.", field="valid_until")


def check_grace(months, days):
    if months is None or months < 0 or days is None or days < 0:
        raise ProgrammeRefused("Le délai de grâce ne peut pas être négatif.", field="grace_months")
    if months > MAX_GRACE_MONTHS or days > MAX_GRACE_DAYS:
        raise ProgrammeRefused(
            f"Le délai de grâce est limité à {MAX_GRACE_MONTHS} mois et {MAX_GRACE_DAYS} jours.", field="grace_months"
        )


def check_face_value(cents):
    if cents is None or cents <= 0 or cents > MAX_FACE_VALUE_CENTS:
        raise ProgrammeRefused(
            "La valeur d'un pass doit être comprise entre 0,01 € et 100 €.", field="face_value_cents"
        )


def check_passes_per_booklet(count):
    if count not in (5, 10):
        raise ProgrammeRefused("Un carnet contient 5 ou 10 pass.", field="passes_per_booklet")


def split_codes(text):
    """``"33, 24 2A"`` → ``["33", "24", "2A"]`` (order kept, duplicates removed)."""
    items = text if isinstance(text, list | tuple) else re.split(r"[\s,;]+", text or "")
    result = []
    for item in items:
        item = str(item).strip().upper()
        if item and item not in result:
            result.append(item)
    return result


def check_territory(*, departments: list[str], communes: list[str]) -> None:
    """Each code well formed, then known to the referential of communes and departments
    (Saint-Martin 978 and Saint-Barthélemy 977 included)."""
    for code in departments:
        if not DEPARTMENT.match(code):
            raise ProgrammeRefused(
                f"« {code} » n'est pas un code de département (2 ou 3 chiffres, ou 2A / 2B).", field="departments"
            )
    for code in communes:
        if not COMMUNE.match(code):
            raise ProgrammeRefused(
                f"« {code} » n'est pas un code INSEE de commune (5 chiffres, ou 2A / 2B suivi de 3 chiffres).",
                field="communes",
            )
    unknown = territory_selectors.unknown_departments(codes=list(departments))
    if unknown:
        raise ProgrammeRefused(
            f"Aucun département n'a le code {', '.join(unknown)} : vérifiez-le (par exemple 33 pour la Gironde, "
            "978 pour Saint-Martin).",
            code=Refusal.DEPARTMENT_UNKNOWN,
            field="departments",
        )
    unknown = territory_selectors.unknown_communes(codes=list(communes))
    if unknown:
        raise ProgrammeRefused(
            f"Aucune commune n'a le code INSEE {', '.join(unknown)} : vérifiez-le (ce n'est pas le code postal), "
            "ou cherchez la commune par son nom.",
            code=Refusal.INSEE_UNKNOWN,
            field="communes",
        )


def check_cofunders(cofunders):
    total = 0
    for name, share_bp in cofunders:
        if not name.strip():
            raise ProgrammeRefused("Indiquez le nom de chaque cofinanceur.", field="cofunders")
        if share_bp <= 0 or share_bp > 10000:
            raise ProgrammeRefused(f"La part de {name} doit être comprise entre 0 et 100 %.", field="cofunders")
        total += share_bp
    if total > 10000:
        raise ProgrammeRefused("Les parts des cofinanceurs dépassent 100 %.", field="cofunders")


def check_logo(upload):
    """A PNG or JPEG image of at most 2 Mo and 4000 pixels a side."""
    if not upload:
        return
    if upload.size > MAX_LOGO_BYTES:
        raise ProgrammeRefused("Le logo est trop lourd : 2 Mo au plus.", field="logo")
    import warnings

    from PIL import Image, UnidentifiedImageError

    try:
        upload.seek(0)
        with warnings.catch_warnings():
            # Pillow warns, then raises, on images of huge dimensions (a « decompression bomb »).
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ProgrammeRefused("Le logo est trop grand : 4000 pixels de côté au plus.", field="logo") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ProgrammeRefused(
            "Le logo n'est pas une image lisible : envoyez un fichier PNG ou JPEG.", field="logo"
        ) from error
    finally:
        upload.seek(0)
    if image_format not in ("PNG", "JPEG"):
        raise ProgrammeRefused("Le logo doit être une image PNG ou JPEG.", field="logo")
    if width > MAX_LOGO_PIXELS or height > MAX_LOGO_PIXELS:
        raise ProgrammeRefused("Le logo est trop grand : 4000 pixels de côté au plus.", field="logo")


def check_programme_data(data, *, programme=None):
    check_prefix(data["prefix"], programme=programme)
    check_face_value(data.get("face_value_cents", 1000))
    check_passes_per_booklet(data.get("passes_per_booklet", 10))
    if programme is None or data["valid_until"] != programme.valid_until:
        check_valid_until(data["valid_until"])
    check_grace(data.get("grace_months", 1), data.get("grace_days", 0))
    check_territory(departments=data.get("departments", []), communes=data.get("communes", []))
    check_cofunders(data.get("cofunders", []))
    check_audiences(values=data.get("audiences", []))
    check_logo(data.get("logo"))


def check_booklet_count(count):
    if not isinstance(count, int) or isinstance(count, bool) or not MIN_BOOKLETS <= count <= MAX_BOOKLETS:
        raise OrderRefused(
            f"Le nombre de carnets doit être compris entre {MIN_BOOKLETS} et {MAX_BOOKLETS}.", field="booklet_count"
        )


def check_programme_orderable(programme):
    if not programme.is_open:
        raise OrderRefused("Ce programme est clos : il n'accepte plus de commande.")
    if programme.valid_until <= timezone.localdate():
        raise OrderRefused("La validité de ce programme est terminée : il n'accepte plus de commande.")
    unpaid = Order.objects.filter(programme=programme, status=Order.Status.INVOICED).first()
    if unpaid is not None:
        raise OrderRefused(
            f"La facture de la commande {unpaid.number} de ce programme n'est pas encore payée : "
            "une nouvelle commande sera possible après son paiement."
        )


# --- Programmes -----------------------------------------------------------------------------

PROGRAMME_FIELDS = [
    "name",
    "prefix",
    "face_value_cents",
    "passes_per_booklet",
    "valid_until",
    "grace_months",
    "grace_days",
    "departments",
    "communes",
    "audiences",
    "contact_name",
    "contact_email",
    "contact_phone",
    "allows_exceptions",
    "requires_beneficiary_name",
]
ELIGIBILITY_FIELDS = ["eligible_levels", "eligible_subcategories", "eligible_services"]


def _apply(programme, data):
    for field in PROGRAMME_FIELDS:
        if field in data:
            setattr(programme, field, data[field])
    if data.get("logo"):
        programme.logo = data["logo"]


def _save_relations(programme, data):
    for field in ELIGIBILITY_FIELDS:
        if field in data:
            getattr(programme, field).set(data[field])
    if "cofunders" in data:
        save_cofunders(programme=programme, cofunders=data["cofunders"])


def _cofunder_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def save_cofunders(*, programme: Programme, cofunders: list[tuple[str, int]]) -> None:
    """Co-funder rows are stable: a co-funder named again keeps its row (its share updated in
    place), a new one gets a row, one no longer named loses its row. A row that comes from a
    co-funding agreement (``sponsors.calls``) is the agreement's: it stays whatever the list says,
    and the sponsor cannot change its share (refused, nothing written)."""
    rows = list(CoFunder.objects.filter(programme=programme).select_related("agreement").order_by("pk"))
    agreed = {_cofunder_key(row.name): row for row in rows if hasattr(row, "agreement")}
    free = {_cofunder_key(row.name): row for row in rows if not hasattr(row, "agreement")}
    named = set()
    total = sum(row.share_bp for row in agreed.values())
    for name, share_bp in cofunders:
        key = _cofunder_key(name)
        if key in named:
            raise ProgrammeRefused(f"{name} est nommé deux fois parmi les cofinanceurs.", field="cofunders")
        named.add(key)
        row = agreed.get(key)
        if row is not None:
            if share_bp != row.share_bp:
                raise ProgrammeRefused(
                    f"La part de {row.name} ({row.share_bp / 100:g} %) est fixée par une convention de cofinancement : "
                    "elle ne peut pas être modifiée ici.",
                    code=Refusal.AGREEMENT_SHARE_LOCKED,
                    field="cofunders",
                )
            continue
        total += share_bp
        row = free.get(key)
        if row is None:
            CoFunder.objects.create(programme=programme, name=name.strip(), share_bp=share_bp)
        elif row.share_bp != share_bp or row.name != name.strip():
            row.share_bp, row.name = share_bp, name.strip()
            row.save(update_fields=["share_bp", "name"])
    if total > 10000:
        raise ProgrammeRefused(
            "Avec les conventions de cofinancement, les parts des cofinanceurs dépassent 100 %.",
            code=Refusal.COFUNDING_OVER_100,
            field="cofunders",
        )
    CoFunder.objects.filter(pk__in=[row.pk for key, row in free.items() if key not in named]).delete()


@transaction.atomic
def create_programme(sponsor, data, *, actor=None, request=None):
    check_sponsor(sponsor)
    data = {**data, "prefix": (data.get("prefix") or "").strip().upper()}
    check_programme_data(data)
    programme = Programme(sponsor=sponsor)
    _apply(programme, data)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError as error:
        raise ProgrammeRefused("Ce préfixe est déjà pris par un autre programme.", field="prefix") from error
    _save_relations(programme, data)
    _save_audiences(programme=programme, data=data)
    record(
        "sponsors.programme.created",
        actor=actor,
        request=request,
        organisation=sponsor,
        target=programme,
        after=snapshot(programme, fields=PROGRAMME_FIELDS),
    )
    return programme


@transaction.atomic
def update_programme(programme, data, *, actor=None, request=None):
    programme = Programme.objects.select_for_update().get(pk=programme.pk)
    data = {**data, "prefix": (data.get("prefix") or programme.prefix).strip().upper()}
    if data["prefix"] != programme.prefix and programme.booklets.exists():
        raise ProgrammeRefused("Des carnets sont déjà numérotés : le préfixe ne peut plus changer.", field="prefix")
    for field in ("face_value_cents", "passes_per_booklet"):
        if field in data and data[field] != getattr(programme, field) and programme.orders.exists():
            raise ProgrammeRefused(
                "Ce programme a déjà des commandes : la valeur et la taille des carnets ne peuvent plus changer.",
                field=field,
            )
    check_programme_data(data, programme=programme)
    before = snapshot(programme, fields=PROGRAMME_FIELDS)
    dates_before = (programme.valid_until, pass_services.expiry_date(programme))
    _apply(programme, data)
    moved = move_passes_with_programme(programme, dates_before=dates_before)
    programme.save()
    _save_relations(programme, data)
    _save_audiences(programme=programme, data=data)
    record(
        "sponsors.programme.changed",
        actor=actor,
        request=request,
        organisation=programme.sponsor,
        target=programme,
        before=before,
        after={**snapshot(programme, fields=PROGRAMME_FIELDS), **({"passes_moved": moved} if moved else {})},
    )
    return programme


# --- Audiences: codes, national or the programme's own (see passnum.audiences) ------------------

MAX_AUDIENCES = 30


def check_audiences(*, values) -> None:
    """Codes or labels: a list of at most 30, each label of at most 100 characters."""
    if not isinstance(values, (list, tuple)):
        raise ProgrammeRefused("Les publics visés doivent être une liste.", field="audiences")
    if len(values) > MAX_AUDIENCES:
        raise ProgrammeRefused(f"Indiquez {MAX_AUDIENCES} publics visés au plus.", field="audiences")
    for value in values:
        if len(str(value).strip()) > audience_codes.LABEL_MAX:
            raise ProgrammeRefused(
                f"Le nom d'un public tient en {audience_codes.LABEL_MAX} caractères au plus : "
                f"« {str(value)[:40]}… » est trop long.",
                field="other_audiences",
            )


def audience_codes_for(*, programme: Programme, values) -> list[str]:
    """The codes of ``values`` (codes or labels), in their order, without repeats: a national code
    or label (or a former wording) gives the national code; the code or label of one of the
    programme's own audiences gives its code; another label becomes a new audience of the
    programme's own (a ``ProgrammeAudience``), in the caller's transaction."""
    own = dict(ProgrammeAudience.objects.filter(programme=programme).values_list("code", "label"))
    known = set(own)
    codes = audience_codes.codes_for(values, own=own)
    ProgrammeAudience.objects.bulk_create(
        [ProgrammeAudience(programme=programme, code=code, label=own[code]) for code in own if code not in known]
    )
    return codes


def _save_audiences(*, programme: Programme, data: dict) -> None:
    for code, label in (data.get("audience_labels") or {}).items():
        rename_programme_audience(programme=programme, code=code, label=label)
    if "audiences" in data:
        programme.audiences = audience_codes_for(programme=programme, values=data["audiences"])
        programme.save(update_fields=["audiences", "updated_at"])  # a new version: labels read again


@transaction.atomic
def rename_programme_audience(*, programme: Programme, code: str, label: str, actor=None, request=None):
    """A new label for one of the programme's own audiences: its code stays, so its history (the
    hand-overs counted under it) stays in one row of the reports."""
    audience = ProgrammeAudience.objects.select_for_update().filter(programme=programme, code=code).first()
    if audience is None:
        raise ProgrammeRefused("Ce public n'est pas un public propre à ce programme.", field="audiences")
    label = " ".join(str(label or "").split())
    if not label:
        raise ProgrammeRefused("Indiquez le nouveau nom du public.", field="label")
    if len(label) > audience_codes.LABEL_MAX:
        raise ProgrammeRefused(
            f"Le nom d'un public tient en {audience_codes.LABEL_MAX} caractères au plus.", field="label"
        )
    if audience_codes.national_code(label):
        raise ProgrammeRefused(
            f"« {label} » est déjà un public de la liste nationale : cochez-le plutôt.", field="label"
        )
    others = ProgrammeAudience.objects.filter(programme=programme).exclude(pk=audience.pk)
    if any(audience_codes.normalised(o.label) == audience_codes.normalised(label) for o in others):
        raise ProgrammeRefused(f"Ce programme a déjà un public nommé « {label} ».", field="label")
    before = audience.label
    audience.label = label
    audience.save(update_fields=["label"])
    programme.save(update_fields=["updated_at"])  # a new version: the labels are read again
    record(
        "sponsors.programme.audience_renamed",
        actor=actor,
        request=request,
        organisation=programme.sponsor,
        target=programme,
        before={"code": code, "label": before},
        after={"code": code, "label": label},
    )
    return audience


def move_passes_with_programme(programme, *, dates_before) -> int:
    """A programme's end (validity or grace) moved: its passes' dates move with it, in the
    caller's transaction, so that no pass keeps an end its programme no longer has. Refused once
    passes of it expired (they were credited back). Returns the number of passes moved."""
    valid_until, expires_on = programme.valid_until, pass_services.expiry_date(programme)
    if (valid_until, expires_on) == tuple(dates_before):
        return 0
    try:
        return pass_services.move_programme_dates(programme=programme, valid_until=valid_until, expires_on=expires_on)
    except DomainError as error:
        raise ProgrammeRefused(error.message, code=error.code, field="valid_until") from error


@transaction.atomic
def close_programme(programme, *, actor=None, request=None):
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.CLOSED)
    record("sponsors.programme.closed", actor=actor, request=request, organisation=programme.sponsor, target=programme)


# --- Orders and invoices --------------------------------------------------------------------


def _rate(amount, rate_bp):
    """``amount × rate``, rounded half up to the cent."""
    return (amount * rate_bp + 5000) // 10000


def quote_amounts(programme, booklet_count):
    face = booklet_count * programme.passes_per_booklet * programme.face_value_cents
    fee_bp, vat_bp = fee_rate_bp(), vat_rate_bp()
    fee = _rate(face, fee_bp)
    vat = _rate(fee, vat_bp)
    return {
        "face_value_cents": face,
        "fee_rate_bp": fee_bp,
        "fee_cents": fee,
        "vat_rate_bp": vat_bp,
        "vat_cents": vat,
        "total_cents": face + fee + vat,
    }


def next_order_number(*, sponsor: Organisation, year: int) -> str:
    """The sponsor's next order number of ``year`` (``CMD-2026-0001``), in the transaction that
    creates the order (a rolled-back order gives its number back)."""
    return next_number(series=Series.CMD, year=year, organisation=sponsor)


@transaction.atomic
def create_quote(programme, booklet_count, *, actor=None, request=None):
    check_booklet_count(booklet_count)
    programme = Programme.objects.select_for_update().select_related("sponsor").get(pk=programme.pk)
    check_programme_orderable(programme)
    order = Order.objects.create(
        programme=programme,
        sponsor=programme.sponsor,
        number=next_order_number(sponsor=programme.sponsor, year=timezone.localdate().year),
        booklet_count=booklet_count,
        created_by=actor,
        **quote_amounts(programme, booklet_count),
    )
    record(
        "sponsors.order.quoted",
        actor=actor,
        request=request,
        organisation=programme.sponsor,
        target=order,
        after={"booklets": booklet_count, "total_cents": order.total_cents},
    )
    return order


@transaction.atomic
def cancel_quote(order, *, actor=None, request=None):
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.QUOTE:
        raise OrderRefused("Seul un devis non confirmé peut être abandonné.")
    order.status = Order.Status.CANCELLED
    order.save(update_fields=["status"])
    record("sponsors.order.cancelled", actor=actor, request=request, organisation=order.programme.sponsor, target=order)
    return order


def render_invoice_pdf(invoice, order):
    from weasyprint import HTML

    html = render_to_string(
        "sponsors/invoice_pdf.html",
        {
            "invoice": invoice,
            "order": order,
            "programme": order.programme,
            "issuer": settings.PASSNUM_OPERATOR_NAME,
        },
    )
    buffer = io.BytesIO()
    HTML(string=html).write_pdf(buffer)
    return buffer.getvalue()


@transaction.atomic
def confirm_order(order, *, actor=None, request=None):
    """Quote → invoice: a gapless invoice number, the PDF, and the order's booklets and passes."""
    order = Order.objects.select_for_update().select_related("programme__sponsor").get(pk=order.pk)
    if order.status != Order.Status.QUOTE:
        raise OrderRefused("Cette commande est déjà confirmée ou abandonnée.")
    programme = order.programme
    check_booklet_count(order.booklet_count)
    check_programme_orderable(programme)
    now = timezone.now()
    year = timezone.localtime(now).year
    number = next_number(series=Series.FAC, year=year)
    sponsor = programme.sponsor
    invoice = SponsorInvoice(
        order=order,
        sponsor=sponsor,
        year=year,
        sequence=sequence_of(number),
        number=number,
        issued_at=now,
        sponsor_name=sponsor.name,
        sponsor_address=" ".join(x for x in (sponsor.address, sponsor.postcode, sponsor.city) if x),
        sponsor_siret=sponsor.siret,
        booklet_count=order.booklet_count,
        pass_count=order.pass_count,
        face_value_cents=order.face_value_cents,
        fee_rate_bp=order.fee_rate_bp,
        fee_cents=order.fee_cents,
        vat_rate_bp=order.vat_rate_bp,
        vat_cents=order.vat_cents,
        total_cents=order.total_cents,
    )
    invoice.pdf.save("facture.pdf", ContentFile(render_invoice_pdf(invoice, order)), save=False)
    invoice.save()
    pass_services.generate_booklets(order, actor=actor)
    order.status = Order.Status.INVOICED
    order.confirmed_at = now
    order.save(update_fields=["status", "confirmed_at"])
    record(
        "sponsors.invoice.issued",
        actor=actor,
        request=request,
        organisation=sponsor,
        target=invoice,
        after={"number": invoice.number, "total_cents": invoice.total_cents},
    )
    return invoice


def check_payment(invoice, paid_on, reference):
    if SponsorPayment.objects.filter(invoice=invoice).exists():
        raise PaymentRefused("Le paiement de cette facture est déjà enregistré.")
    if not isinstance(paid_on, date):
        raise PaymentRefused("Indiquez la date du paiement.", field="paid_on")
    if paid_on > timezone.localdate():
        raise PaymentRefused("La date du paiement ne peut pas être dans le futur.", field="paid_on")
    if paid_on < timezone.localtime(invoice.issued_at).date():
        raise PaymentRefused("La date du paiement précède l'émission de la facture.", field="paid_on")
    if not (reference or "").strip():
        raise PaymentRefused("Indiquez la référence du virement ou du mandat.", field="reference")


@transaction.atomic
def record_payment(invoice, *, paid_on, reference, actor=None, request=None):
    """The operator records the sponsor's payment: the order is paid, its passes can be activated."""
    invoice = SponsorInvoice.objects.select_for_update().get(pk=invoice.pk)
    check_payment(invoice, paid_on, reference)
    payment = SponsorPayment.objects.create(
        invoice=invoice, paid_on=paid_on, reference=reference.strip(), recorded_by=actor
    )
    Order.objects.filter(pk=invoice.order_id).update(status=Order.Status.PAID, paid_at=timezone.now())
    record(
        "sponsors.invoice.paid",
        actor=actor,
        request=request,
        organisation=invoice.sponsor,
        target=invoice,
        after={"paid_on": paid_on.isoformat(), "reference": payment.reference},
    )
    return payment
