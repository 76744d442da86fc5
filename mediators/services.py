"""Use cases of mediation sites: the guided application, the operator's decisions, the payee
account, the yearly subscription and workshops.

Every write is atomic, checks its input with a ``check_*`` validator raising ``SiteError``
(code, French message, field) and writes the audit log in the same transaction.
"""

import datetime
import json
import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from aptic_catalog.selectors import active_services
from mediators import selectors
from mediators.models import (
    Answer,
    Audience,
    CatalogueFormat,
    CatalogueItem,
    Choice,
    PayeeAccount,
    PayeeKind,
    PayeeStatus,
    PointOfPresence,
    QualificationStatus,
    Question,
    RedeemedPass,
    Redemption,
    RedemptionKey,
    RefusedScan,
    SchemeSettings,
    Sector,
    Site,
    SiteAudience,
    SiteStatusChange,
    Subscription,
    SubscriptionStatus,
    SupportingDocument,
    Workshop,
)
from mediators.settlement import lock_site_settlement
from mediators.validators import (
    SiteError,
    check_bic,
    check_coordinates,
    check_document,
    check_iban,
    check_insee_code,
    check_phone,
    check_postcode,
    check_postcode_matches_insee,
)
from passnum.audit.services import record, snapshot
from passnum.errors import DomainError
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.selectors import pending_invitations_of
from passnum.organisations.services import OrganisationError, create_organisation, invite, update_organisation
from passnum.passes import codes, validity
from passnum.passes import selectors as pass_selectors
from passnum.passes import services as pass_services
from passnum.passes.models import PassState
from sponsors import selectors as sponsor_selectors

__all__ = ["SiteError"]


# --- the site and its identity ------------------------------------------------------------


def get_or_create_site(organisation):
    """The mediation side of an organisation of kind SITE (created on first use)."""
    if organisation.kind != OrganisationKind.SITE:
        raise SiteError("Cette organisation n'est pas une structure de médiation.", code="not_a_site", status=403)
    site = Site.objects.select_related("organisation").filter(organisation=organisation).first()
    if site is not None:
        return site
    try:
        with transaction.atomic():
            return Site.objects.create(organisation=organisation)
    except IntegrityError:  # created by a parallel request
        return Site.objects.select_related("organisation").get(organisation=organisation)


def check_legal_form_and_sector(legal_form, sector):
    public_forms = {"commune", "ccas", "epci", "department", "region", "public_body"}
    if legal_form in public_forms and sector == Sector.PRIVATE:
        raise SiteError(
            "Une collectivité ou un établissement public relève du secteur public.",
            code="sector_mismatch",
            field="sector",
        )


@transaction.atomic
def register_site(*, user, name, siret, legal_form, sector, address="", postcode="", city="", email="", request=None):
    """Sign-up of a new structure: its organisation (the user becomes its administrator) and its
    application, in draft."""
    check_legal_form_and_sector(legal_form, sector)
    if postcode:
        postcode = check_postcode(postcode)
    organisation = create_organisation(
        kind=OrganisationKind.SITE,
        name=name.strip(),
        siret=siret,
        admin=user,
        address=address.strip(),
        postcode=postcode,
        city=city.strip(),
        email=email.strip(),
    )
    site = Site.objects.create(organisation=organisation, legal_form=legal_form, sector=sector)
    SiteStatusChange.objects.create(site=site, to_status=QualificationStatus.DRAFT, actor=user)
    record("site.registered", actor=user, organisation=organisation, target=site, after=snapshot(site), request=request)
    return site


@transaction.atomic
def update_identity(*, site, by, legal_form, sector, presentation="", website="", audiences=(), request=None):
    check_legal_form_and_sector(legal_form, sector)
    unknown = set(audiences) - set(Audience.values)
    if unknown:
        raise SiteError("Public inconnu.", code="audience_unknown", field="audiences")
    account = PayeeAccount.objects.filter(site=site).first()
    if account is not None and sector == Sector.PRIVATE and account.payee_kind != PayeeKind.SELF:
        raise SiteError(
            "Le compte de versement est celui d'un comptable public : une structure privée est payée sur son "
            "propre compte. Modifiez d'abord le compte bancaire.",
            code="payee_kind_not_allowed",
            field="sector",
        )
    before = snapshot(site)
    site.legal_form = legal_form
    site.sector = sector
    site.presentation = presentation.strip()[:280]
    site.website = website.strip()
    site.save()
    SiteAudience.objects.filter(site=site).exclude(audience__in=audiences).delete()
    for audience in audiences:
        SiteAudience.objects.get_or_create(site=site, audience=audience)
    record(
        "site.identity_changed",
        actor=by,
        organisation=site.organisation,
        target=site,
        before=before,
        after={**snapshot(site), "audiences": sorted(audiences)},
        request=request,
    )
    return site


@transaction.atomic
def update_organisation_identity(*, site, by, name, siret, address="", postcode="", city="", email="", request=None):
    """The administrator changes the structure's name, SIRET, head-office address or contact
    e-mail after its sign-up (the view checks the role), checked as at sign-up: SIRET checksum
    and unique (``OrganisationError`` on the field otherwise). Audited with before and after."""
    if postcode:
        postcode = check_postcode(postcode)
    site.organisation = update_organisation(
        organisation=site.organisation,
        by=by,
        name=name,
        siret=siret,
        address=address,
        postcode=postcode,
        city=city,
        email=email,
        request=request,
    )
    return site


@transaction.atomic
def invite_site_admin(*, site, email, by=None, request=None):
    """Gives a site without administrator one (a site imported by the operator): an invitation
    for the admin role, e-mailed to ``email``. Idempotent, so that importing the same file again
    sends nothing: returns None when the site already has an active administrator, when an
    invitation for this address is pending, or when the address is already a member."""
    email = (email or "").strip().lower()
    if not email or selectors.admin_emails(site):
        return None
    organisation = site.organisation
    if pending_invitations_of(organisation).filter(email__iexact=email).exists():
        return None
    try:
        return invite(organisation=organisation, email=email, role=Role.ADMIN, invited_by=by, request=request)
    except OrganisationError as error:
        if error.code == "already_member":
            return None
        raise


# --- points of presence ---------------------------------------------------------------------

POINT_FIELDS = [
    "name",
    "address",
    "address_complement",
    "postcode",
    "commune",
    "insee_code",
    "latitude",
    "longitude",
    "opening_hours",
    "phone",
    "email",
    "wheelchair_accessible",
    "hearing_support",
    "visual_support",
    "cognitive_support",
    "literacy_support",
    "is_mobile",
    "regulated_free",
]


def check_point_of_presence(data):
    """Checks and cleans the fields of a point of presence; returns the cleaned dict."""
    cleaned = dict(data)
    for field in ("name", "address", "commune"):
        cleaned[field] = (cleaned.get(field) or "").strip()
        if not cleaned[field]:
            raise SiteError("Ce champ est obligatoire.", code="required", field=field)
    cleaned["postcode"] = check_postcode(cleaned.get("postcode"))
    cleaned["insee_code"] = check_insee_code(cleaned.get("insee_code"))
    check_postcode_matches_insee(cleaned["postcode"], cleaned["insee_code"])
    cleaned["latitude"], cleaned["longitude"] = check_coordinates(cleaned.get("latitude"), cleaned.get("longitude"))
    cleaned["phone"] = check_phone(cleaned.get("phone"))
    return cleaned


@transaction.atomic
def save_point_of_presence(*, site, by, data, point=None, request=None):
    cleaned = check_point_of_presence(data)
    before = snapshot(point) if point is not None else None
    if point is None:
        point = PointOfPresence(site=site)
    elif point.site_id != site.pk:
        raise SiteError("Ce lieu n'appartient pas à votre structure.", code="not_found", status=404)
    for field in POINT_FIELDS:
        if field in cleaned:
            setattr(point, field, cleaned[field])
    point.save()
    record(
        "site.point_saved",
        actor=by,
        organisation=site.organisation,
        target=point,
        before=before,
        after=snapshot(point),
        request=request,
    )
    return point


@transaction.atomic
def close_point_of_presence(*, point, by, request=None):
    """A point of presence is closed, not deleted: workshops and (later) redemptions refer to it."""
    point.is_active = False
    point.save(update_fields=["is_active", "updated_at"])
    Workshop.objects.upcoming().filter(point_of_presence=point).update(is_cancelled=True)
    record("site.point_closed", actor=by, organisation=point.site.organisation, target=point, request=request)


# --- questionnaire and charter --------------------------------------------------------------


def check_questionnaire_editable(site):
    if site.status not in (QualificationStatus.DRAFT, QualificationStatus.CHANGES_REQUESTED):
        raise SiteError("Le questionnaire ne se modifie plus une fois le dossier déposé.", code="questionnaire_locked")


@transaction.atomic
def save_answers(*, site, by, answers, request=None):
    """``answers`` maps question ids to choice ids; the score is recomputed."""
    check_questionnaire_editable(site)
    questions = {q.pk: q for q in Question.objects.filter(is_active=True)}
    for question_id, choice_id in answers.items():
        question = questions.get(int(question_id))
        if question is None:
            raise SiteError("Cette question n'existe pas.", code="question_unknown")
        choice = Choice.objects.filter(pk=choice_id, question=question).first()
        if choice is None:
            raise SiteError("Choisissez une des réponses proposées.", code="choice_unknown", field=f"q{question.pk}")
        Answer.objects.update_or_create(site=site, question=question, defaults={"choice": choice})
    site.questionnaire_score = selectors.questionnaire_score(site)
    site.save(update_fields=["questionnaire_score", "updated_at"])
    record(
        "site.questionnaire_answered",
        actor=by,
        organisation=site.organisation,
        target=site,
        after={"score": site.questionnaire_score},
        request=request,
    )
    return site.questionnaire_score


@transaction.atomic
def accept_charter(*, site, by, version, request=None):
    current = SchemeSettings.load().charter_version
    if version != current:
        raise SiteError(
            "La charte a changé depuis l'ouverture de la page : relisez-la avant de l'accepter.",
            code="charter_outdated",
        )
    site.charter_version = current
    site.charter_accepted_at = timezone.now()
    site.charter_accepted_by = by
    site.save(update_fields=["charter_version", "charter_accepted_at", "charter_accepted_by", "updated_at"])
    record(
        "site.charter_accepted",
        actor=by,
        organisation=site.organisation,
        target=site,
        after={"version": current},
        request=request,
    )


# --- catalogue -------------------------------------------------------------------------------


def check_catalogue_service(service_code):
    """The service must be an active service of the #APTIC referential."""
    try:
        code = int(str(service_code).strip())
    except (TypeError, ValueError):
        code = None
    service = active_services().filter(code=code).first() if code is not None else None
    if service is None:
        raise SiteError(
            "Ce service n'existe pas dans le référentiel #APTIC : choisissez un service de la liste.",
            code="service_not_in_referential",
            field="service",
        )
    return service


def check_catalogue_terms(*, passes_required, format, duration_minutes, tariff_cents):
    if passes_required is None or int(passes_required) < 1:
        raise SiteError("Un service demande au moins 1 pass.", code="passes_required_invalid", field="passes_required")
    if int(passes_required) > 10:
        raise SiteError(
            "Un service demande au plus 10 pass (un carnet).", code="passes_required_invalid", field="passes_required"
        )
    if format not in CatalogueFormat.values:
        raise SiteError("Choisissez individuel ou collectif.", code="format_invalid", field="format")
    if duration_minutes is None or not 15 <= int(duration_minutes) <= 600:
        raise SiteError("La durée va de 15 minutes à 10 heures.", code="duration_invalid", field="duration_minutes")
    if tariff_cents is None or int(tariff_cents) < 0:
        raise SiteError("Le tarif ne peut pas être négatif.", code="tariff_invalid", field="tariff_cents")


@transaction.atomic
def save_catalogue_item(
    *, site, by, service_code, passes_required, format, duration_minutes, tariff_cents, item=None, request=None
):
    service = check_catalogue_service(service_code)
    check_catalogue_terms(
        passes_required=passes_required, format=format, duration_minutes=duration_minutes, tariff_cents=tariff_cents
    )
    duplicate = CatalogueItem.objects.filter(site=site, service=service).exclude(pk=getattr(item, "pk", None))
    if duplicate.exists():
        raise SiteError(
            "Ce service est déjà dans votre catalogue : modifiez-le.",
            code="service_already_in_catalogue",
            field="service",
        )
    before = snapshot(item) if item is not None else None
    if item is None:
        item = CatalogueItem(site=site)
    item.service = service
    item.passes_required = int(passes_required)
    item.format = format
    item.duration_minutes = int(duration_minutes)
    item.tariff_cents = int(tariff_cents)
    item.is_active = True
    item.save()
    record(
        "site.catalogue_saved",
        actor=by,
        organisation=site.organisation,
        target=item,
        before=before,
        after=snapshot(item),
        request=request,
    )
    return item


@transaction.atomic
def remove_catalogue_item(*, item, by, request=None):
    record(
        "site.catalogue_removed",
        actor=by,
        organisation=item.site.organisation,
        target=item,
        before=snapshot(item),
        request=request,
    )
    Workshop.objects.upcoming().filter(site=item.site, service=item.service).update(is_cancelled=True)
    item.delete()


# --- documents -------------------------------------------------------------------------------


@transaction.atomic
def add_document(*, site, by, kind, uploaded, request=None):
    content_type = check_document(uploaded)
    document = SupportingDocument(
        site=site,
        kind=kind,
        original_name=(uploaded.name or "document")[-255:],
        content_type=content_type,
        size=uploaded.size,
        uploaded_by=by,
    )
    document.file.save(uploaded.name or "document", uploaded, save=False)
    document.save()
    record(
        "site.document_added",
        actor=by,
        organisation=site.organisation,
        target=document,
        after={"kind": kind, "size": document.size, "content_type": content_type},
        request=request,
    )
    return document


@transaction.atomic
def delete_document(*, document, by, request=None):
    record(
        "site.document_deleted",
        actor=by,
        organisation=document.site.organisation,
        target=document,
        before=snapshot(document, fields=["kind", "original_name", "size"]),
        request=request,
    )
    storage, name = document.file.storage, document.file.name
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- payee account ---------------------------------------------------------------------------


def check_payee_kind(site, payee_kind):
    if payee_kind not in PayeeKind.values:
        raise SiteError("Choisissez qui reçoit les virements.", code="payee_kind_invalid", field="payee_kind")
    if payee_kind != PayeeKind.SELF and site.sector != Sector.PUBLIC:
        raise SiteError(
            "Seule une structure du secteur public peut être payée sur le compte de son comptable public "
            "(régie ou mandat).",
            code="payee_kind_not_allowed",
            field="payee_kind",
        )


@transaction.atomic
def set_payee_account(*, site, by, payee_kind, holder_name, iban, bic, request=None):
    """Creates or changes the payee account. A changed IBAN or BIC must be verified again by the
    operator before any payment (DESIGN §6)."""
    check_payee_kind(site, payee_kind)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise SiteError(
            "Indiquez le titulaire du compte, tel qu'il figure sur le RIB.", code="required", field="holder_name"
        )
    iban = check_iban(iban)
    bic = check_bic(bic, iban=iban)
    account = PayeeAccount.objects.select_for_update().filter(site=site).first()
    before = snapshot(account, fields=["payee_kind", "holder_name", "iban", "bic", "status"]) if account else None
    if account is None:
        account = PayeeAccount(site=site)
    bank_changed = account.iban != iban or account.bic != bic or account.holder_name != holder_name
    account.payee_kind = payee_kind
    account.holder_name = holder_name
    account.iban = iban
    account.bic = bic
    if bank_changed or account.pk is None:
        account.status = PayeeStatus.TO_VERIFY
        account.verified_at = None
        account.verified_by = None
    account.save()
    record(
        "site.payee_account_changed",
        actor=by,
        organisation=site.organisation,
        target=account,
        before=before,
        after=snapshot(account, fields=["payee_kind", "holder_name", "iban", "bic", "status"]),
        request=request,
    )
    return account


@transaction.atomic
def verify_payee_account(*, account, by, request=None):
    """The operator has checked the account (RIB, holder): payments may go to it."""
    account = PayeeAccount.objects.select_for_update().select_related("site__organisation").get(pk=account.pk)
    if account.status == PayeeStatus.VERIFIED:
        return account
    account.status = PayeeStatus.VERIFIED
    account.verified_at = timezone.now()
    account.verified_by = by
    account.save(update_fields=["status", "verified_at", "verified_by", "updated_at"])
    record(
        "site.payee_account_verified",
        actor=by,
        organisation=account.site.organisation,
        target=account,
        after={"iban": account.iban, "status": account.status},
        request=request,
    )
    return account


# --- application and decisions ---------------------------------------------------------------


@transaction.atomic
def submit_application(*, site, by, request=None):
    site = Site.objects.select_for_update().select_related("organisation").get(pk=site.pk)
    if site.status not in (QualificationStatus.DRAFT, QualificationStatus.CHANGES_REQUESTED):
        raise SiteError(
            f"Le dossier ne peut pas être déposé dans son état actuel ({site.get_status_display().lower()}).",
            code="application_not_open",
        )
    missing = selectors.missing_steps(site)
    if missing:
        raise SiteError(
            "Le dossier est incomplet : " + " ; ".join(step.label for step in missing) + ".",
            code="application_incomplete",
            missing=[step.key for step in missing],
        )
    site.questionnaire_score = selectors.questionnaire_score(site)
    site.submitted_at = timezone.now()
    _change_status(site, QualificationStatus.SUBMITTED, reason="", by=by, request=request, action="site.submitted")
    return site


DECISIONS = {
    # decision: (allowed from, to status, reason required, French verb for the e-mail)
    "qualify": (
        {QualificationStatus.SUBMITTED, QualificationStatus.SUSPENDED},
        QualificationStatus.QUALIFIED,
        False,
        "Votre structure est qualifiée",
    ),
    "request_changes": (
        {QualificationStatus.SUBMITTED},
        QualificationStatus.CHANGES_REQUESTED,
        True,
        "Des compléments sont demandés sur votre dossier",
    ),
    "reject": ({QualificationStatus.SUBMITTED}, QualificationStatus.REJECTED, True, "Votre candidature est refusée"),
    "suspend": (
        {QualificationStatus.QUALIFIED},
        QualificationStatus.SUSPENDED,
        True,
        "Votre qualification est suspendue",
    ),
    "disqualify": (
        {QualificationStatus.QUALIFIED, QualificationStatus.SUSPENDED},
        QualificationStatus.DISQUALIFIED,
        True,
        "Votre qualification est retirée",
    ),
}


def check_decision(site, decision, reason):
    if decision not in DECISIONS:
        raise SiteError("Décision inconnue.", code="decision_unknown")
    allowed_from, _to, reason_required, _subject = DECISIONS[decision]
    if site.status not in allowed_from:
        raise SiteError(
            f"Cette décision n'est pas possible pour un dossier dans l'état « {site.get_status_display()} ».",
            code="decision_not_allowed",
        )
    if reason_required and not (reason or "").strip():
        raise SiteError("Indiquez le motif : la structure le verra.", code="reason_required", field="reason")


@transaction.atomic
def decide(*, site, decision, reason, by, request=None):
    """An operator's decision on a site, with the reason the site sees; audited and e-mailed."""
    site = Site.objects.select_for_update().select_related("organisation").get(pk=site.pk)
    check_decision(site, decision, reason)
    _allowed, to_status, _required, subject = DECISIONS[decision]
    if to_status == QualificationStatus.QUALIFIED and site.qualified_at is None:
        site.qualified_at = timezone.now()
    _change_status(site, to_status, reason=(reason or "").strip(), by=by, request=request, action=f"site.{decision}")
    _mail_site_admins(site, subject)
    return site


def qualify(*, site, by, reason="", request=None):
    return decide(site=site, decision="qualify", reason=reason, by=by, request=request)


def request_changes(*, site, by, reason, request=None):
    return decide(site=site, decision="request_changes", reason=reason, by=by, request=request)


def reject(*, site, by, reason, request=None):
    return decide(site=site, decision="reject", reason=reason, by=by, request=request)


def suspend(*, site, by, reason, request=None):
    return decide(site=site, decision="suspend", reason=reason, by=by, request=request)


def disqualify(*, site, by, reason, request=None):
    return decide(site=site, decision="disqualify", reason=reason, by=by, request=request)


def _change_status(site, to_status, *, reason, by, request, action):
    before = {"status": site.status}
    from_status = site.status
    site.status = to_status
    site.decision_reason = reason
    site.status_changed_at = timezone.now()
    site.save()
    SiteStatusChange.objects.create(site=site, from_status=from_status, to_status=to_status, reason=reason, actor=by)
    record(
        action,
        actor=by,
        organisation=site.organisation,
        target=site,
        before=before,
        after={"status": to_status, "reason": reason},
        request=request,
    )


def _mail_site_admins(site, subject):
    recipients = selectors.admin_emails(site)
    if not recipients:
        return
    link = settings.SITE_URL.rstrip("/") + reverse("mediators:dashboard")
    body = (
        f"Bonjour,\n\n{subject} (« {site.organisation.name} »).\n\n"
        f"État du dossier : {site.get_status_display()}.\n"
        + (f"Motif : {site.decision_reason}\n" if site.decision_reason else "")
        + f"\nRetrouvez le détail dans votre espace : {link}\n\nL'équipe du Pass numérique"
    )
    transaction.on_commit(lambda: send_mail(f"{subject} — Pass numérique", body, None, recipients))


# --- subscription ----------------------------------------------------------------------------


@transaction.atomic
def ensure_subscription(*, site, year, today=None):
    """The subscription of ``year`` (created with the current amount and due date if missing)."""
    settings_row = SchemeSettings.load()
    today = today or timezone.localdate()
    start = max(today, datetime.date(year, 1, 1)) if year == today.year else datetime.date(year, 1, 1)
    subscription, _ = Subscription.objects.get_or_create(
        site=site,
        year=year,
        defaults={
            "amount_cents": settings_row.subscription_amount_cents,
            "due_date": start + datetime.timedelta(days=settings_row.subscription_due_days),
        },
    )
    return subscription


@transaction.atomic
def mark_subscription_paid(*, subscription, by, request=None):
    subscription = Subscription.objects.select_for_update().select_related("site__organisation").get(pk=subscription.pk)
    if subscription.status == SubscriptionStatus.PAID:
        return subscription
    subscription.status = SubscriptionStatus.PAID
    subscription.paid_at = timezone.now()
    subscription.save(update_fields=["status", "paid_at"])
    record(
        "site.subscription_paid",
        actor=by,
        organisation=subscription.site.organisation,
        target=subscription,
        after={"amount_cents": subscription.amount_cents},
        request=request,
    )
    return subscription


def send_subscription_reminders(today=None):
    """Reminds once every site whose subscription is past due and unpaid. Returns the count."""
    today = today or timezone.localdate()
    sent = 0
    due = Subscription.objects.filter(
        status=SubscriptionStatus.DUE, due_date__lt=today, reminder_sent_at__isnull=True
    ).select_related("site__organisation")
    grace = SchemeSettings.load().subscription_grace_days
    for subscription in due:
        with transaction.atomic():
            locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
            if locked.reminder_sent_at is not None or locked.status != SubscriptionStatus.DUE:
                continue
            locked.reminder_sent_at = timezone.now()
            locked.save(update_fields=["reminder_sent_at"])
            record("site.subscription_reminded", organisation=subscription.site.organisation, target=locked)
            recipients = selectors.admin_emails(subscription.site)
            limit = locked.due_date + datetime.timedelta(days=grace)
            body = (
                f"Bonjour,\n\nL'abonnement {locked.year} de « {subscription.site} » "
                f"({locked.amount_cents / 100:.2f} € HT) était à payer avant le {locked.due_date:%d/%m/%Y}.\n"
                f"Sans paiement au {limit:%d/%m/%Y}, l'encaissement des Pass numériques sera suspendu.\n\n"
                "L'équipe du Pass numérique"
            )
            if recipients:
                transaction.on_commit(
                    lambda body=body, recipients=recipients, year=locked.year: send_mail(
                        f"Rappel : abonnement {year} au Pass numérique", body, None, recipients
                    )
                )
            sent += 1
    return sent


# --- workshops -------------------------------------------------------------------------------


def check_workshop(*, site, service_code, point_of_presence, starts_at, duration_minutes, seats):
    service = check_catalogue_service(service_code)
    if not CatalogueItem.objects.filter(site=site, service=service, is_active=True).exists():
        raise SiteError(
            "Ajoutez d'abord ce service à votre catalogue.", code="service_not_in_catalogue", field="service"
        )
    if point_of_presence is None or point_of_presence.site_id != site.pk or not point_of_presence.is_active:
        raise SiteError("Choisissez un de vos lieux ouverts.", code="point_unknown", field="point_of_presence")
    if starts_at is None or starts_at <= timezone.now():
        raise SiteError("Un atelier se publie à une date à venir.", code="workshop_in_past", field="starts_at")
    if duration_minutes is None or not 15 <= int(duration_minutes) <= 600:
        raise SiteError("La durée va de 15 minutes à 10 heures.", code="duration_invalid", field="duration_minutes")
    if seats is None or not 1 <= int(seats) <= 200:
        raise SiteError("Le nombre de places va de 1 à 200.", code="seats_invalid", field="seats")
    return service


@transaction.atomic
def save_workshop(
    *,
    site,
    by,
    service_code,
    point_of_presence,
    starts_at,
    duration_minutes,
    seats,
    level,
    title="",
    workshop=None,
    request=None,
):
    service = check_workshop(
        site=site,
        service_code=service_code,
        point_of_presence=point_of_presence,
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        seats=seats,
    )
    before = snapshot(workshop) if workshop is not None else None
    if workshop is None:
        workshop = Workshop(site=site)
    workshop.service = service
    workshop.point_of_presence = point_of_presence
    workshop.starts_at = starts_at
    workshop.duration_minutes = int(duration_minutes)
    workshop.seats = int(seats)
    workshop.level = level
    workshop.title = (title or "").strip()
    workshop.save()
    record(
        "site.workshop_saved",
        actor=by,
        organisation=site.organisation,
        target=workshop,
        before=before,
        after=snapshot(workshop),
        request=request,
    )
    return workshop


@transaction.atomic
def cancel_workshop(*, workshop, by, request=None):
    workshop.is_cancelled = True
    workshop.save(update_fields=["is_cancelled"])
    record(
        "site.workshop_cancelled", actor=by, organisation=workshop.site.organisation, target=workshop, request=request
    )


# --- Redemption (DESIGN §5) ------------------------------------------------------------------
#
# ``redeem`` checks everything, then locks the passes (FOR UPDATE, id order), checks their state
# under the lock and writes the redemption, its lines (one live line per pass: partial unique
# index), the passes' new state and their journal in one transaction. ``redeem_once`` wraps it
# with the idempotency key, stored in the same transaction, and logs refused scans.

MAX_CODES = 10
MAX_ENTRY_LENGTH = 300
CLOCK_SKEW = datetime.timedelta(minutes=5)


class RedemptionRefused(DomainError):
    code = "redemption_refused"
    status = 409


def _refused(code, message, status, entries=None, **details):
    return RedemptionRefused(message, code=code, status=status, codes=list(entries or []), **details)


def _entries(passes):
    return [codes.grouped(p.code) for p in passes]


def printable(text):
    """What was entered, safe to store and show: control characters (NUL…) dropped."""
    return "".join(char for char in str(text) if char.isprintable())


def check_codes(entered):
    """What was scanned or typed → compact codes. Malformed entries are reported before
    mistyped ones, each with the offending entries."""
    if not isinstance(entered, list) or not 1 <= len(entered) <= MAX_CODES:
        raise _refused("code_malformed", f"Envoyez entre 1 et {MAX_CODES} codes de pass dans « codes ».", 400, [])
    parsed = [(text, codes.parse(text)) for text in entered]
    for error in (codes.MALFORMED, codes.MISTYPED):
        wrong = [printable(text)[:40] for text, result in parsed if result.error == error]
        if wrong:
            raise _refused(error, codes.ERROR_MESSAGES[error], 400, wrong)
    compact = [result.code for _, result in parsed]
    if len(set(compact)) != len(compact):
        raise _refused("code_malformed", "Le même pass a été scanné deux fois dans cette demande.", 400, compact)
    return compact


def check_redeeming_site(organisation, context=None):
    """The site may redeem (qualified, not suspended, subscription not lapsed). ``context`` (from
    ``selectors.redemption_context``) spares the queries."""
    try:
        if context is None:
            return selectors.check_site_can_redeem(selectors.site_of(organisation) if organisation else None)
        return selectors.check_site_can_redeem(context.site, subscription=context.subscription)
    except SiteError as error:
        raise _refused(error.code, error.message, error.status) from None


def check_redeeming_point(point):
    if point is None:
        raise _refused(
            "point_of_presence_unknown",
            "Ce lieu n'est pas un lieu ouvert de votre structure : choisissez-en un dans la liste.",
            400,
            field="point_of_presence",
        )
    return point


def check_redeeming_service(item):
    if item is None:
        raise _refused(
            "service_not_in_catalogue",
            "Ce service n'est pas au catalogue de votre structure : choisissez un service de votre catalogue.",
            409,
            field="service",
        )
    return item


def check_pass_count(item, compact):
    if len(compact) != item.passes_required:
        needed = item.passes_required
        raise _refused(
            "wrong_pass_count",
            f"Ce service se paie avec {needed} pass d'un même carnet : vous en avez scanné {len(compact)}.",
            400,
            compact,
            passes_required=needed,
        )


def check_passes_known(passes, compact):
    known = {p.code for p in passes}
    unknown = [code for code in compact if code not in known]
    if unknown:
        raise _refused(
            "pass_unknown",
            "Ce code ne correspond à aucun Pass numérique : vérifiez qu'il s'agit bien d'un pass du dispositif.",
            404,
            [codes.grouped(code) for code in unknown],
        )


def check_same_booklet(passes):
    if len({p.booklet_id for p in passes}) > 1:
        raise _refused(
            "passes_from_different_booklets",
            "Ces pass viennent de carnets différents : un service se paie avec des pass d'un même carnet.",
            400,
            _entries(passes),
        )


def _already_redeemed(passes, site):
    redemption = selectors.live_redemption_of([p.pk for p in passes])
    if redemption is None:  # settled before redemptions were recorded: say only that
        return _refused("pass_already_redeemed", "Ce pass a déjà été encaissé.", 409, _entries(passes))
    when = timezone.localtime(redemption.redeemed_at)
    message = f"Ce pass a déjà été encaissé le {when:%d/%m/%Y à %H:%M}"
    details = {"redeemed_at": redemption.redeemed_at.isoformat()}
    if redemption.site_id == site.pk:
        who = redemption.redeemed_by.email if redemption.redeemed_by else "votre structure"
        message += f", par {who} à « {redemption.point_of_presence.name} »"
        details["redeemed_by"] = who
        details["point_of_presence"] = redemption.point_of_presence.name
    else:
        message += " dans une autre structure"
    return _refused("pass_already_redeemed", message + ".", 409, _entries(passes), **details)


def check_passes_redeemable(passes, site, scan_date, *, today=None):
    """Under the lock: every pass is active and not expired (``passes.validity.is_expired``)."""
    today = today or timezone.localdate()
    states = {p.state for p in passes}
    if PassState.CANCELLED in states:
        raise _refused(
            "pass_cancelled",
            "Ce pass a été annulé (carnet déclaré perdu ou volé) : il ne peut pas être encaissé.",
            409,
            _entries(p for p in passes if p.state == PassState.CANCELLED),
        )
    if PassState.REDEEMED in states:
        raise _already_redeemed([p for p in passes if p.state == PassState.REDEEMED], site)
    expired = [
        p
        for p in passes
        if validity.is_expired(state=p.state, expires_on=p.expires_on, scanned_on=scan_date, today=today)
    ]
    if expired:
        raise _refused(
            "pass_expired",
            f"Ce pass a expiré le {expired[0].expires_on:%d/%m/%Y} : il ne peut plus être encaissé.",
            409,
            _entries(expired),
        )
    if PassState.CREATED in states:
        raise _refused(
            "pass_not_active",
            "Ce pass n'est pas encore actif : son carnet n'a pas été remis par un prescripteur, ou la commande "
            "du financeur n'est pas payée. Invitez la personne à revoir son prescripteur.",
            409,
            _entries(p for p in passes if p.state == PassState.CREATED),
        )


def check_programme_accepts(programme, item, point, passes):
    if not sponsor_selectors.service_is_eligible(programme, item.service):
        raise _refused(
            "service_not_eligible",
            f"Le programme « {programme.name} » ne finance pas ce service : proposez un autre service.",
            409,
            _entries(passes),
        )
    if not sponsor_selectors.covers_commune(programme, point.insee_code):
        raise _refused(
            "site_out_of_territory",
            f"Ce lieu est hors du territoire du programme « {programme.name} » : le pass n'y est pas valable.",
            409,
            _entries(passes),
        )


def check_beneficiary_share(share, amount_cents):
    if share is None:
        return 0
    if isinstance(share, bool) or not isinstance(share, int) or not 0 <= share <= amount_cents:
        raise _refused(
            "beneficiary_share_invalid",
            f"Le reste à charge doit être un nombre de centimes entre 0 et {amount_cents}.",
            400,
            field="beneficiary_share_cents",
        )
    return share


def check_scanned_at(scanned_at, now, passes):
    """A scan time sent by a device (offline queue): not in the future, not before the hand-out."""
    if scanned_at is None:
        return now
    if scanned_at > now + CLOCK_SKEW:
        raise _refused(
            "scanned_at_invalid",
            "L'heure du scan est dans le futur : vérifiez l'heure de l'appareil.",
            400,
            field="scanned_at",
        )
    handed_out = pass_selectors.hand_out_time([p.pk for p in passes])
    if handed_out is not None and scanned_at < handed_out:
        raise _refused(
            "scanned_at_invalid",
            "L'heure du scan précède la remise du carnet : vérifiez l'heure de l'appareil.",
            400,
            field="scanned_at",
        )
    return scanned_at


def redeem(
    organisation,
    *,
    user,
    codes_entered,
    service_code,
    point_id,
    beneficiary_share_cents=None,
    scanned_at=None,
    now=None,
    idempotency=None,
):
    """Redeems passes of one booklet for a service at a point of presence; returns the
    ``Redemption`` or raises ``RedemptionRefused`` having written nothing. Call inside a
    transaction (``redeem_once`` does). ``idempotency`` (``(key, request_hash)``) stores the
    answer under that key with the redemption."""
    now = now or timezone.now()
    context = selectors.redemption_context(organisation, point_id, service_code, timezone.localdate(now))
    site = check_redeeming_site(organisation, context)
    compact = check_codes(codes_entered)
    point = check_redeeming_point(context.point)
    item = check_redeeming_service(context.item)
    check_pass_count(item, compact)
    passes = pass_selectors.passes_for_redemption(compact)  # locked until the end of the transaction
    check_passes_known(passes, compact)
    check_same_booklet(passes)
    scanned_at = check_scanned_at(scanned_at, now, passes)
    check_passes_redeemable(passes, site, timezone.localdate(scanned_at))
    programme = passes[0].programme
    check_programme_accepts(programme, item, point, passes)
    amount_cents = sum(p.face_value_cents for p in passes)
    share = check_beneficiary_share(beneficiary_share_cents, amount_cents)
    redemption = Redemption(
        id=uuid.uuid4(),
        site=site,
        point_of_presence=point,
        service=item.service,
        programme=programme,
        booklet=passes[0].booklet,
        pass_count=len(passes),
        amount_cents=amount_cents,
        beneficiary_share_cents=share,
        scanned_at=scanned_at,
        redeemed_at=now,
        redeemed_by=user,
    )
    answer = None
    if idempotency is not None:
        key, request_hash = idempotency
        answer = RedemptionKey(
            organisation=organisation, key=key, request_hash=request_hash, status_code=201,
            response_body=selectors.redemption_as_dict(redemption, compact), redemption=redemption, created_at=now,
        )  # fmt: skip
    _write_redemption(redemption, passes, answer)
    return redemption


# On PostgreSQL, the whole write in one statement (the hot path): the passes' state and journal
# (the pass instrument's part, ``redeemed_passes_cte``), the redemption — only if every pass
# moved —, its lines and the idempotency key's answer.
_REDEMPTION_WRITE_SQL = """
WITH {passes},
redemption AS (
    INSERT INTO mediators_redemption (id, site_id, point_of_presence_id, service_id, programme_id, booklet_id,
        pass_count, amount_cents, beneficiary_share_cents, scanned_at, redeemed_at, redeemed_by_id)
    SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
    WHERE (SELECT count(*) FROM moved) = %s
    RETURNING id
), line AS (
    INSERT INTO mediators_redeemedpass (redemption_id, pass_id, face_value_cents, is_live)
    SELECT redemption.id, line.pass_id, line.face_value_cents, true
    FROM redemption, unnest(%s::bigint[], %s::integer[]) AS line(pass_id, face_value_cents)
){answer}
SELECT count(*) FROM moved
"""
_ANSWER_SQL = """, answer AS (
    INSERT INTO mediators_redemptionkey (organisation_id, key, request_hash, status_code, response_body,
        redemption_id, created_at)
    SELECT %s, %s, %s, %s, %s::jsonb, redemption.id, %s FROM redemption
)"""


def _write_redemption(redemption, passes, answer=None):
    """Writes a checked redemption (and the ``RedemptionKey`` ``answer``) with its passes, locked
    and active: all or nothing (a pass no longer active raises, the transaction rolls back)."""
    r = redemption
    details = {"redemption": str(r.pk)}
    if not pass_services.single_statement_writes():
        pass_services.mark_redeemed(passes, actor=r.redeemed_by, at=r.redeemed_at, details=details)
        r.save(force_insert=True)
        RedeemedPass.objects.bulk_create(
            [RedeemedPass(redemption=r, pass_ref_id=p.pk, face_value_cents=p.face_value_cents) for p in passes]
        )
        if answer is not None:
            answer.save(force_insert=True)
        return
    passes_sql, params = pass_services.redeemed_passes_cte(
        [p.pk for p in passes], actor=r.redeemed_by, at=r.redeemed_at, details=details
    )
    params += [r.pk, r.site_id, r.point_of_presence_id, r.service_id, r.programme_id, r.booklet_id, r.pass_count,
               r.amount_cents, r.beneficiary_share_cents, r.scanned_at, r.redeemed_at, r.redeemed_by_id, len(passes),
               [p.pk for p in passes], [p.face_value_cents for p in passes]]  # fmt: skip
    if answer is not None:
        params += [answer.organisation_id, answer.key, answer.request_hash, answer.status_code,
                   json.dumps(answer.response_body), answer.created_at]  # fmt: skip
    sql = _REDEMPTION_WRITE_SQL.format(passes=passes_sql, answer=_ANSWER_SQL if answer is not None else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # a key already used raises IntegrityError (unique constraint)
        moved = cursor.fetchone()[0]
    if moved != len(passes):
        raise _refused("conflict", "Un pass a changé d'état pendant l'encaissement : réessayez.", 409)
    r._state.adding, r._state.db = False, connection.alias


def check_pass_at_site(organisation, entered):
    """A pass tested by a site without redeeming it: ``(pass, refusal or None)``. An unreadable or
    unknown code raises ``RedemptionRefused``; the service and the place are not known yet."""
    try:
        compact = check_codes([entered])
    except RedemptionRefused as refusal:
        refusal.status = 404  # the path names no pass
        raise
    passes = pass_selectors.passes_for_redemption(compact, for_update=False)
    check_passes_known(passes, compact)
    try:
        site = check_redeeming_site(organisation)
        check_passes_redeemable(passes, site, timezone.localdate())
    except RedemptionRefused as refusal:
        return passes[0], refusal
    return passes[0], None


def _log_refusal(organisation, user, refusal, *, entered, point_id, service_code, scanned_at, now):
    """Who, where, which code, why: the place and the service only when they are the site's."""
    context = selectors.redemption_context(organisation, point_id, service_code, timezone.localdate(now))
    point, item = context.point, context.item
    RefusedScan.objects.create(
        organisation=organisation,
        user=user,
        point_of_presence=point,
        service=item.service if item else None,
        entered=printable(", ".join(map(str, entered)) if isinstance(entered, list) else entered)[:200],
        reason=refusal.code,
        message=refusal.message[:300],
        at=now,
        scanned_at=scanned_at,
    )


def check_idempotent_replay(stored, request_hash):
    """A stored answer for this key: the same request gets it again; another request is refused."""
    if stored is None:
        return None
    stored_hash, status, body = stored
    if stored_hash != request_hash:
        raise _refused(
            "idempotency_key_reused",
            "Cette clé d'idempotence a déjà servi pour une autre demande : utilisez une nouvelle clé par scan.",
            409,
        )
    return status, body


def redeem_once(
    organisation,
    *,
    key,
    request_hash,
    user,
    codes_entered,
    service_code,
    point_id,
    beneficiary_share_cents=None,
    scanned_at=None,
):
    """``redeem`` under an idempotency key: ``(status, body)``, the first answer for the key —
    201 and the redemption, or the refusal — whatever the retries or concurrent duplicates.

    The key is not looked up first: the hot path is the first request. A replay does the work
    again under the locks (finding its passes redeemed), fails to insert its key, rolls back
    and answers the stored response; a concurrent duplicate's insert waits for the first one's
    commit. Either way nothing is written twice."""
    now = timezone.now()
    try:
        with transaction.atomic():
            try:
                redemption = redeem(
                    organisation,
                    user=user,
                    codes_entered=codes_entered,
                    service_code=service_code,
                    point_id=point_id,
                    beneficiary_share_cents=beneficiary_share_cents,
                    scanned_at=scanned_at,
                    now=now,
                    idempotency=(key, request_hash),  # the answer is written with the redemption
                )
                status, body = 201, selectors.redemption_as_dict(redemption, check_codes(codes_entered))
            except RedemptionRefused as refusal:
                status, body = refusal.status, refusal.as_dict()
                _log_refusal(
                    organisation,
                    user,
                    refusal,
                    entered=codes_entered,
                    point_id=point_id,
                    service_code=service_code,
                    scanned_at=scanned_at,
                    now=now,
                )
                # A concurrent request with the same key makes this insert wait for its commit, then fail.
                RedemptionKey.objects.create(
                    organisation=organisation,
                    key=key,
                    request_hash=request_hash,
                    status_code=status,
                    response_body=body,
                    created_at=now,
                )
    except IntegrityError:
        # Everything above was rolled back; the request that got the key first gave the answer.
        replay = check_idempotent_replay(selectors.stored_redemption_answer(organisation, key), request_hash)
        if replay is None:
            message = "Une autre demande a modifié ces pass au même moment : réessayez."
            raise _refused("conflict", message, 409) from None
        return replay
    return status, body


@transaction.atomic
def undo_redemption(organisation, redemption_id, *, user, now=None):
    """A mistaken redemption undone within 24 hours, never once on a statement: its passes are
    active again (journal ``undone``). Another organisation's redemption is not found (404)."""
    from passnum.organisations.tenancy import get_for_organisation_or_404

    now = now or timezone.now()
    lock_site_settlement(organisation_id=organisation.pk)  # a monthly close cannot settle it meanwhile
    redemption = get_for_organisation_or_404(Redemption.objects.select_for_update(), organisation, pk=redemption_id)
    if redemption.undone_at is not None:
        raise _refused("redemption_already_undone", "Cet encaissement est déjà annulé.", 409)
    if redemption.settled_at is not None:
        raise _refused(
            "redemption_settled",
            "Cet encaissement figure déjà sur un relevé de remboursement : il ne peut plus être annulé.",
            409,
        )
    if now - redemption.redeemed_at > selectors.UNDO_WINDOW:
        raise _refused(
            "undo_window_over",
            "Un encaissement ne peut être annulé que dans les 24 heures : contactez l'opérateur.",
            409,
        )
    pass_ids = list(RedeemedPass.objects.filter(redemption=redemption).values_list("pass_ref_id", flat=True))
    RedeemedPass.objects.filter(redemption=redemption).update(is_live=False)
    pass_services.mark_unredeemed(pass_ids, actor=user, details={"redemption": str(redemption.pk)})
    redemption.undone_at, redemption.undone_by = now, user
    redemption.save(update_fields=["undone_at", "undone_by"])
    record("mediators.redemption.undone", actor=user, organisation=organisation, target=redemption)
    return redemption
