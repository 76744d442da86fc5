"""Use cases of a site's qualification: sign-up and identity, the guided application
(questionnaire, charter, documents, payee account), the operator's decisions and the yearly
subscription.

Every write is atomic, checks its input with a ``check_*`` validator raising ``SiteError``
(code, French message, field) and writes the audit log in the same transaction.
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clearing.payees.models import PayeeKind
from clearing.payees.selectors import current_payee_account
from mediators.errors import SiteError
from mediators.places.validators import (
    check_postcode,
)
from mediators.qualification import selectors
from mediators.qualification.models import (
    Answer,
    Audience,
    Choice,
    QualificationStatus,
    Question,
    SchemeSettings,
    Sector,
    Site,
    SiteAudience,
    SiteStatusChange,
    Subscription,
    SubscriptionStatus,
    SupportingDocument,
)
from mediators.qualification.validators import check_document
from passnum import mail
from passnum.audit.services import record, snapshot
from passnum.organisations.enums import OrganisationKind, Role
from passnum.organisations.selectors import pending_invitations_of
from passnum.organisations.services import OrganisationError, create_organisation, invite, update_organisation


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
    account = current_payee_account(organisation=site.organisation)
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
    mail.send_after_commit(subject=f"{subject} — Pass numérique", body=body, to=recipients)


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
                mail.send_after_commit(
                    subject=f"Rappel : abonnement {locked.year} au Pass numérique", body=body, to=recipients
                )
            sent += 1
    return sent
