"""Use cases of the counter: hand a booklet over, undo it, declare a booklet lost, purge.

Every refusal is a ``DomainError`` with a stable code and a French sentence; ``status`` is the
HTTP status the API answers with (404: no such booklet in your stock, 409: the booklet's state
forbids it, 400: the beneficiary's data).
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from beneficiaries.models import AgeBand, Beneficiary, HandOver, LossDeclaration, LossKind
from passnum import audiences as audience_codes
from passnum.audit.services import record
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors
from sponsors import selectors as sponsor_selectors

COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
PHONE = re.compile(r"^\+?[0-9]{9,15}$")
UNDO_MINUTES = 15


class BookletUnknown(DomainError):
    code = Refusal.BOOKLET_UNKNOWN
    status = 404
    message = "Aucun carnet ne porte ce numéro : vérifiez le numéro imprimé sous le code-barres."


class BookletNotInStock(DomainError):
    code = Refusal.BOOKLET_NOT_IN_STOCK
    status = 404
    message = "Ce carnet ne fait pas partie du stock de votre organisation : il ne peut pas être remis ici."


class HandOverRefused(DomainError):
    code = Refusal.HAND_OVER_REFUSED
    status = 409


class BeneficiaryRefused(DomainError):
    code = Refusal.BENEFICIARY_INVALID
    status = 400


class NotEligible(DomainError):
    code = Refusal.NOT_ELIGIBLE
    status = 409


class UndoRefused(DomainError):
    code = Refusal.HAND_OVER_UNDO_REFUSED
    status = 409


class LossRefused(DomainError):
    code = Refusal.LOSS_REFUSED
    status = 409


# --- Validators -----------------------------------------------------------------------------


def check_prescriber(organisation):
    if organisation is None or organisation.kind != OrganisationKind.PRESCRIBER:
        raise HandOverRefused("Seul un prescripteur peut remettre un carnet.", code=Refusal.NOT_A_PRESCRIBER)


def check_booklet(serial, organisation, *, for_update=False):
    """The booklet of this serial, in the prescriber's stock, ready to be handed out."""
    booklet = pass_selectors.booklet_by_serial(serial, for_update=for_update)
    if booklet is None:
        raise BookletUnknown(field="serial")
    if booklet.holder_id != getattr(organisation, "pk", None):
        raise BookletNotInStock(field="serial")
    if booklet.state == booklet.State.HANDED_OUT:
        live = HandOver.objects.live().filter(booklet=booklet).first()
        when = f" le {timezone.localtime(live.at):%d/%m/%Y à %H:%M}" if live else ""
        raise HandOverRefused(
            f"Ce carnet a déjà été remis{when} : il ne peut pas l'être une seconde fois.",
            code=Refusal.BOOKLET_ALREADY_HANDED_OUT,
            field="serial",
        )
    if booklet.state == booklet.State.CANCELLED:
        raise HandOverRefused(
            "Ce carnet a été déclaré perdu ou annulé : ses pass ne valent plus rien, remettez-en un autre.",
            code=Refusal.BOOKLET_CANCELLED,
            field="serial",
        )
    if booklet.state != booklet.State.ALLOCATED:
        raise BookletNotInStock(field="serial")
    if booklet.order.status != "paid":
        raise HandOverRefused(
            "La commande de ce carnet n'est pas encore payée par le commanditaire : ses pass ne peuvent pas être "
            "activés. Remettez un autre carnet.",
            code=Refusal.ORDER_NOT_PAID,
            field="serial",
        )
    programme = booklet.programme
    if programme.valid_until < timezone.localdate():
        raise HandOverRefused(
            f"Le programme « {programme.name} » a pris fin le {programme.valid_until:%d/%m/%Y} : "
            "ce carnet ne peut plus être remis.",
            code=Refusal.PROGRAMME_EXPIRED,
            field="serial",
        )
    if not programme.is_open:
        raise HandOverRefused(
            f"Le programme « {programme.name} » est clos : ce carnet ne peut plus être remis.",
            code=Refusal.PROGRAMME_CLOSED,
            field="serial",
        )
    return booklet


def check_age_band(value):
    if value not in AgeBand.values:
        raise BeneficiaryRefused("Choisissez une tranche d'âge.", field="age_band")
    return value


def check_commune(*, code: str) -> str:
    """A commune of the referential, by its INSEE code (not its postcode)."""
    code = str(code or "").strip().upper()
    if not COMMUNE.match(code):
        raise BeneficiaryRefused(
            "Ce code de commune n'existe pas : un code INSEE compte 5 chiffres (2A ou 2B suivis de 3 chiffres "
            "en Corse), par exemple 33063 pour Bordeaux.",
            field="commune",
        )
    if territory_selectors.commune(code=code) is None:
        raise BeneficiaryRefused(
            f"Aucune commune n'a le code INSEE {code} : vérifiez-le (ce n'est pas le code postal), "
            "ou cherchez la commune par son nom.",
            code=Refusal.INSEE_UNKNOWN,
            field="commune",
        )
    return code


def check_audiences(audiences, programme):
    """The codes of the programme's audiences that concern the person, in the programme's order.
    Each given value is a code or, for the API's clients of before the codes, a label (« Seniors »)."""
    values = [" ".join(str(a).split()) for a in (audiences or [])]
    allowed = list(programme.audiences or [])
    wanted = set()
    labels = None
    for value in values:
        code = value if value in allowed else audience_codes.national_code(value)
        if code not in allowed:
            if labels is None:  # a label of one of the programme's own audiences (asked once)
                labels = {
                    audience_codes.normalised(label): code
                    for code, label in sponsor_selectors.audience_labels(programme=programme).items()
                }
            code = labels.get(audience_codes.normalised(value))
        if code not in allowed:
            raise BeneficiaryRefused(f"« {value[:60]} » n'est pas un public visé par ce programme.", field="audiences")
        wanted.add(code)
    return [a for a in allowed if a in wanted]


def check_contact(consent, email, phone):
    email, phone = (email or "").strip(), re.sub(r"[\s.\-]", "", phone or "")
    if not consent:
        if email or phone:
            raise BeneficiaryRefused(
                "Sans consentement, ne notez ni e-mail ni téléphone : cochez le consentement ou effacez le contact.",
                field="contact_consent",
            )
        return "", ""
    if not email and not phone:
        raise BeneficiaryRefused(
            "La personne accepte d'être contactée : indiquez son e-mail ou son téléphone, ou décochez le consentement.",
            field="email",
        )
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise BeneficiaryRefused("Cette adresse e-mail n'est pas valable.", field="email") from exc
    if phone and not PHONE.match(phone):
        raise BeneficiaryRefused("Ce numéro de téléphone n'est pas valable (10 chiffres, ou +33…).", field="phone")
    return email, phone


def programme_requires_name(programme):
    """The sponsor's setting: the counter notes the person's name (with their consent)."""
    return programme.requires_beneficiary_name


def check_name(name, programme, *, name_consent):
    """A name only when the programme requires it, and then with the person's consent; otherwise none."""
    name = " ".join((name or "").split())
    if not programme_requires_name(programme):
        if name:
            raise BeneficiaryRefused("Ce programme ne demande pas le nom : ne le notez pas.", field="name")
        return ""
    if not name:
        raise BeneficiaryRefused(
            "Ce programme demande le nom de la personne : indiquez son nom et son prénom.", field="name"
        )
    if not name_consent:
        raise BeneficiaryRefused(
            "Le nom n'est noté qu'avec l'accord de la personne : cochez son accord, sinon ce programme ne "
            "permet pas la remise.",
            field="name_consent",
        )
    return name[:150]


def eligibility_warnings(programme, commune, audiences):
    """What does not match the programme's territory and audiences (empty if eligible)."""
    warnings = []
    if not sponsor_selectors.covers_commune(programme, commune):
        warnings.append(f"La commune {commune} est hors du territoire du programme.")
    if programme.audiences and not audiences:
        warnings.append("La personne ne fait partie d'aucun des publics visés par le programme.")
    return warnings


def check_eligibility(programme, warnings, exception_reason):
    if not warnings:
        return ""
    if not programme.allows_exceptions:
        raise NotEligible(
            " ".join(warnings) + " Ce programme n'accepte pas de dérogation : le carnet ne peut pas être remis.",
            field="commune",
            warnings=warnings,
        )
    reason = (exception_reason or "").strip()
    if not reason:
        raise NotEligible(
            " ".join(warnings) + " Le programme accepte une dérogation : indiquez-en la raison pour continuer.",
            code=Refusal.EXCEPTION_REASON_REQUIRED,
            field="exception_reason",
            warnings=warnings,
        )
    return reason[:1000]


def clean_beneficiary(data, programme):
    """Validated pseudonymous fields of a new beneficiary (dict) from raw ``data``."""
    email, phone = check_contact(bool(data.get("contact_consent")), data.get("email"), data.get("phone"))
    return {
        "age_band": check_age_band(data.get("age_band")),
        "commune": check_commune(code=data.get("commune")),
        "audiences": check_audiences(data.get("audiences"), programme),
        "contact_consent": bool(data.get("contact_consent")),
        "email": email,
        "phone": phone,
        "name": check_name(data.get("name"), programme, name_consent=bool(data.get("name_consent"))),
    }


# --- Hand-over ------------------------------------------------------------------------------


def hand_over(
    organisation,
    serial,
    data=None,
    *,
    user=None,
    exception_reason="",
    submission_key=None,
    replaces=None,
    request=None,
    at: datetime | None = None,
):
    """Hands the booklet ``serial`` to a new beneficiary (``data``) or, with ``replaces``, to the
    beneficiary of a lost booklet's hand-over. Applied once: the same ``submission_key`` returns the
    first hand-over; the booklet row is locked and one live hand-over per booklet is a unique index.
    ``at`` (default now) dates the hand-over and the activation of the passes: only the demo (a year
    of use) and the tests pass it. Returns ``(hand_over, created)``."""
    check_prescriber(organisation)
    submission_key = (submission_key or "")[:64] or None
    try:
        with transaction.atomic():
            return _hand_over(
                organisation, serial, data or {}, user, exception_reason, submission_key, replaces, request, at
            )
    except IntegrityError:
        # A concurrent double submission won the race: answer with its hand-over, or refuse clearly.
        if submission_key:
            existing = HandOver.objects.filter(organisation=organisation, submission_key=submission_key).first()
            if existing is not None:
                return existing, False
        check_booklet(serial, organisation)
        raise


def _hand_over(organisation, serial, data, user, exception_reason, submission_key, replaces, request, at=None):
    # Lock the booklet first: a concurrent submission of the same form waits here, then finds
    # the hand-over it made by its submission key.
    pass_selectors.booklet_by_serial(serial, for_update=True)
    if submission_key:
        existing = HandOver.objects.filter(organisation=organisation, submission_key=submission_key).first()
        if existing is not None:
            return existing, False
    booklet = check_booklet(serial, organisation)
    programme = booklet.programme
    if replaces is not None:
        beneficiary = _check_replacement(replaces, organisation)
        commune, audiences = beneficiary.commune, beneficiary.audiences
    else:
        fields = clean_beneficiary(data, programme)
        commune, audiences = fields["commune"], fields["audiences"]
        beneficiary = None
    warnings = eligibility_warnings(programme, commune, audiences)
    reason = check_eligibility(programme, warnings, exception_reason)
    if beneficiary is None:
        beneficiary = Beneficiary.objects.create(created_by=organisation, programme=programme, **fields)
    elif programme.valid_until > beneficiary.programme.valid_until:
        beneficiary.programme = programme
        beneficiary.save(update_fields=["programme"])
    handover = HandOver.objects.create(
        booklet=booklet,
        beneficiary=beneficiary,
        organisation=organisation,
        user=user,
        at=at or timezone.now(),
        is_exception=bool(reason),
        exception_reason=reason,
        exception_warnings=warnings if reason else [],
        replaces=replaces,
        submission_key=submission_key,
    )
    pass_services.hand_out_booklet(
        booklet, actor=user, details={"hand_over": handover.pk, "prescriber": organisation.pk}, at=at
    )
    record(
        "beneficiaries.hand_over",
        actor=user,
        request=request,
        organisation=organisation,
        target=handover,
        after={
            "booklet": booklet.serial,
            "exception": bool(reason),
            "replaces": getattr(replaces, "pk", None),
        },
    )
    return handover, True


def _check_replacement(replaces, organisation):
    if replaces.organisation_id != organisation.pk:
        raise HandOverRefused("Cette remise n'appartient pas à votre organisation.", code=Refusal.REPLACEMENT_REFUSED)
    if not LossDeclaration.objects.filter(hand_over=replaces).exists():
        raise HandOverRefused(
            "Un carnet de remplacement n'est remis qu'à la place d'un carnet déclaré perdu ou volé.",
            code=Refusal.REPLACEMENT_REFUSED,
        )
    if HandOver.objects.live().filter(replaces=replaces).exists():
        raise HandOverRefused(
            "Un carnet de remplacement a déjà été remis pour ce carnet perdu.", code=Refusal.REPLACEMENT_REFUSED
        )
    return replaces.beneficiary


def undo_deadline(handover):
    return handover.at + timedelta(minutes=UNDO_MINUTES)


def can_undo(handover, *, now=None):
    return handover.undone_at is None and (now or timezone.now()) <= undo_deadline(handover)


@transaction.atomic
def undo_hand_over(handover, *, user=None, request=None):
    """Cancels a mistaken hand-over within 15 minutes, if no pass was used: the booklet goes back
    to stock; the beneficiary's contact data, collected for this hand-over only, is erased."""
    handover = HandOver.objects.select_for_update().select_related("booklet", "beneficiary").get(pk=handover.pk)
    if handover.undone_at is not None:
        raise UndoRefused("Cette remise est déjà annulée.", code=Refusal.HAND_OVER_ALREADY_UNDONE)
    if timezone.now() > undo_deadline(handover):
        raise UndoRefused(
            f"Une remise ne s'annule que dans les {UNDO_MINUTES} minutes : déclarez plutôt le carnet perdu si besoin.",
            code=Refusal.UNDO_WINDOW_OVER,
        )
    if LossDeclaration.objects.filter(booklet=handover.booklet).exists():
        raise UndoRefused("Ce carnet a été déclaré perdu : la remise ne peut plus être annulée.")
    try:
        pass_services.undo_hand_out(handover.booklet, actor=user, details={"hand_over": handover.pk})
    except DomainError as error:
        raise UndoRefused(error.message, code=error.code) from error
    handover.undone_at = timezone.now()
    handover.undone_by = user
    handover.save(update_fields=["undone_at", "undone_by"])
    beneficiary = handover.beneficiary
    if not HandOver.objects.live().filter(beneficiary=beneficiary).exists():
        _purge(beneficiary)
    record(
        "beneficiaries.hand_over.undone",
        actor=user,
        request=request,
        organisation=handover.organisation,
        target=handover,
    )
    return handover


# --- Lost or stolen booklets ----------------------------------------------------------------


def check_loss(serial, organisation, *, for_update=False):
    booklet = pass_selectors.booklet_by_serial(serial, for_update=for_update)
    if booklet is None:
        raise BookletUnknown(field="serial")
    if booklet.holder_id != getattr(organisation, "pk", None):
        raise BookletNotInStock("Ce carnet n'a pas été confié à votre organisation.", field="serial")
    if booklet.state == booklet.State.CANCELLED:
        raise LossRefused("Ce carnet est déjà déclaré perdu ou annulé.", code=Refusal.BOOKLET_CANCELLED, field="serial")
    return booklet


@transaction.atomic
def declare_lost(organisation, serial, *, kind=LossKind.LOST, user=None, request=None):
    """A booklet in stock or handed out is lost or stolen: its unused passes are cancelled (journal
    entries by the pass instrument); the person can then get a replacement booklet."""
    check_prescriber(organisation)
    if kind not in LossKind.values:
        raise LossRefused("Indiquez si le carnet est perdu ou volé.", field="kind", status=400)
    booklet = check_loss(serial, organisation, for_update=True)
    live = HandOver.objects.live().filter(booklet=booklet).first()
    summary = pass_selectors.booklet_summary(booklet)
    cancelled_value = summary["usable_cents"] + booklet.programme.face_value_cents * summary["counts"]["created"]
    ids = pass_services.cancel_booklet(booklet, actor=user, reason=f"booklet_{kind}")
    declaration = LossDeclaration.objects.create(
        booklet=booklet,
        organisation=organisation,
        user=user,
        hand_over=live,
        kind=kind,
        at=timezone.now(),
        cancelled_passes=len(ids),
        cancelled_value_cents=cancelled_value,
    )
    record(
        "beneficiaries.booklet.lost",
        actor=user,
        request=request,
        organisation=organisation,
        target=declaration,
        after={"booklet": booklet.serial, "kind": kind, "cancelled_passes": len(ids), "cents": cancelled_value},
    )
    return declaration


# --- Retention ------------------------------------------------------------------------------


def retention_days():
    return settings.PASSNUM_PERSONAL_DATA_RETENTION_DAYS


# What an exception's reason becomes at the purge: it is free text, typed about a person (the
# row keeps saying that an exception was made, never why).
PURGED_EXCEPTION_REASON = "Raison effacée avec les données personnelles."


def _purge_exception_reasons(hand_overs):
    return (
        hand_overs.exclude(exception_reason="")
        .exclude(exception_reason=PURGED_EXCEPTION_REASON)
        .update(exception_reason=PURGED_EXCEPTION_REASON)
    )


def _purge(beneficiary, *, now=None):
    for field in Beneficiary.PERSONAL_FIELDS:
        setattr(beneficiary, field, "")
    beneficiary.contact_consent = False
    beneficiary.purged_at = now or timezone.now()
    beneficiary.save(update_fields=[*Beneficiary.PERSONAL_FIELDS, "contact_consent", "purged_at"])
    _purge_exception_reasons(HandOver.objects.filter(beneficiary=beneficiary))


def purge_personal_data(*, today=None, days=None):
    """Erases the personal fields of beneficiaries whose programme ended (validity + grace) more
    than ``days`` ago. Age band, commune and audiences (the aggregates) survive. Idempotent.
    Returns the number of beneficiaries purged."""
    from sponsors.selectors import programmes_with_ids

    today = today or timezone.localdate()
    days = retention_days() if days is None else days
    programme_ids = Beneficiary.objects.filter(purged_at__isnull=True).values_list("programme_id", flat=True).distinct()
    purged = 0
    now = timezone.now()
    for programme in programmes_with_ids(programme_ids):
        if pass_services.expiry_date(programme) + timedelta(days=days) >= today:
            continue
        with transaction.atomic():
            count = Beneficiary.objects.filter(programme=programme, purged_at__isnull=True).update(
                email="", phone="", name="", contact_consent=False, purged_at=now
            )
            _purge_exception_reasons(HandOver.objects.filter(beneficiary__programme=programme))
            if count:
                record(
                    "beneficiaries.personal_data.purged",
                    organisation=programme.sponsor,
                    target=programme,
                    after={"beneficiaries": count, "retention_days": days},
                )
        purged += count
    return purged


# --- Totals for the sponsors' reports (nightly; see passnum.rollup) ----------------------------
# Set-based SQL, outside the hand-over's write path: a hand-over writes nothing more for them.

_ROLL_UP_SQL = [
    """INSERT INTO beneficiaries_handovermonthtotal AS t (programme_id, month, prescriber_id, department, count,
                                                      first_at, last_at)
    SELECT b.programme_id, date_trunc('month', h.at AT TIME ZONE %(tz)s)::date, h.organisation_id,
           CASE WHEN n.commune LIKE '97%%' THEN substr(n.commune, 1, 3) ELSE substr(n.commune, 1, 2) END,
           count(*), min(h.at), max(h.at)
    FROM beneficiaries_handover h
    JOIN passes_booklet b ON b.id = h.booklet_id
    JOIN beneficiaries_beneficiary n ON n.id = h.beneficiary_id
    WHERE h.undone_at IS NULL AND h.at < %(before)s
      AND (%(since)s::timestamptz IS NULL OR h.at >= %(since)s::timestamptz)
    GROUP BY 1, 2, 3, 4
    ON CONFLICT (programme_id, month, prescriber_id, department) DO UPDATE
    SET count = t.count + EXCLUDED.count, first_at = least(t.first_at, EXCLUDED.first_at),
        last_at = greatest(t.last_at, EXCLUDED.last_at)""",
]


def roll_up_totals(*, now: datetime | None = None, rebuild: bool = False) -> dict:
    """Adds the hand-overs of the days closed since the last run to the reports' totals
    (``HandOverMonthTotal``); idempotent. A day is closed once no undo can reach it (15 minutes
    after its end); a hand-over is dated by the server."""
    from beneficiaries.models import HandOverMonthTotal, HandOverRollup
    from passnum import rollup

    return rollup.roll_up(
        mark_model=HandOverRollup,
        total_models=[HandOverMonthTotal],
        statements=_ROLL_UP_SQL,
        undo_window=timedelta(minutes=UNDO_MINUTES),
        now=now,
        rebuild=rebuild,
    )
