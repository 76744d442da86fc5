"""Reads of a site's qualification: the application's missing steps, the questionnaire's score,
the operator's queue, the subscription state and whether a site may redeem passes.
"""

import datetime
from collections import namedtuple

from django.utils import timezone

from clearing.payees.selectors import current_payee_account
from mediators.errors import SiteError
from mediators.qualification.models import (
    Answer,
    DocumentKind,
    QualificationStatus,
    Question,
    SchemeSettings,
    Site,
    Subscription,
    SubscriptionStatus,
    SupportingDocument,
)
from passnum.organisations.enums import Role
from passnum.organisations.selectors import members_of
from passnum.refusals import Refusal

Step = namedtuple("Step", ["key", "label", "url_name"])


def site_of(organisation):
    """The site of an organisation, or None (no write: see ``services.get_or_create_site``)."""
    return Site.objects.select_related("organisation").filter(organisation=organisation).first()


def admin_emails(site):
    return [m.user.email for m in members_of(site.organisation).filter(role=Role.ADMIN, user__is_active=True)]


def active_questions():
    return Question.objects.filter(is_active=True).prefetch_related("choices")


def answers_of(site):
    return {a.question_id: a.choice_id for a in Answer.objects.filter(site=site)}


def questionnaire_score(site):
    return sum(Answer.objects.filter(site=site, question__is_active=True).values_list("choice__points", flat=True))


def questionnaire_state(site):
    """``(answered, total, score, pass_mark)`` for the active questions."""
    total = Question.objects.filter(is_active=True).count()
    answered = Answer.objects.filter(site=site, question__is_active=True).count()
    return answered, total, questionnaire_score(site), SchemeSettings.load().pass_mark


def missing_steps(site):
    """What the site still has to do before it can file its application, in the steps' order."""
    missing = []
    if not site.legal_form or not site.sector:
        missing.append(
            Step("identity", "indiquer la forme juridique et le secteur (public ou privé)", "mediators:identity")
        )
    if not site.points.filter(is_active=True).exists():
        missing.append(Step("points", "ajouter au moins un lieu d'accueil (point de présence)", "mediators:points"))
    answered, total, score, pass_mark = questionnaire_state(site)
    if answered < total:
        missing.append(
            Step("questionnaire", f"répondre au questionnaire ({answered} sur {total})", "mediators:questionnaire")
        )
    elif score < pass_mark:
        missing.append(
            Step(
                "questionnaire_score",
                f"atteindre le score minimal au questionnaire ({score} points sur les {pass_mark} demandés)",
                "mediators:questionnaire",
            )
        )
    if site.charter_version != SchemeSettings.load().charter_version:
        missing.append(Step("charter", "accepter la charte du Pass numérique", "mediators:charter"))
    if not site.catalogue.filter(is_active=True).exists():
        missing.append(Step("catalogue", "choisir au moins un service dans le catalogue", "mediators:catalogue"))
    if not site.documents.filter(kind=DocumentKind.STATUTES).exists():
        missing.append(Step("documents", "envoyer vos statuts ou la délibération de création", "mediators:documents"))
    if current_payee_account(organisation=site.organisation) is None:
        missing.append(Step("bank", "indiquer le compte bancaire des remboursements", "mediators:bank"))
    return missing


def application_queue():
    """The operator's queue: applications waiting for a decision, oldest first."""
    return (
        Site.objects.filter(status=QualificationStatus.SUBMITTED)
        .select_related("organisation")
        .order_by("submitted_at", "pk")
    )


SubscriptionState = namedtuple("SubscriptionState", ["code", "label", "subscription", "limit", "blocks_redemption"])


_UNREAD = object()


def subscription_state(site, today=None, subscription=_UNREAD):
    """The state of the current year's subscription: ``none``, ``paid``, ``waived``, ``due``,
    ``overdue`` (past due, in the grace period) or ``lapsed`` (past the grace period: redemption
    suspended). ``subscription`` spares the query when the caller read it already."""
    today = today or timezone.localdate()
    if subscription is _UNREAD:
        subscription = Subscription.objects.filter(site=site, year=today.year).first()
    if subscription is None:
        return SubscriptionState("none", "Pas encore d'abonnement pour cette année", None, None, False)
    if subscription.status == SubscriptionStatus.PAID:
        return SubscriptionState("paid", "Abonnement payé", subscription, None, False)
    if subscription.status == SubscriptionStatus.WAIVED:
        return SubscriptionState("waived", "Abonnement offert", subscription, None, False)
    limit = subscription.due_date + datetime.timedelta(days=SchemeSettings.load().subscription_grace_days)
    if today <= subscription.due_date:
        return SubscriptionState(
            "due", f"À payer avant le {subscription.due_date:%d/%m/%Y}", subscription, limit, False
        )
    if today <= limit:
        return SubscriptionState(
            "overdue",
            f"En retard : sans paiement au {limit:%d/%m/%Y}, l'encaissement des pass sera suspendu",
            subscription,
            limit,
            False,
        )
    return SubscriptionState(
        "lapsed", "Impayé : l'encaissement des pass est suspendu jusqu'au paiement", subscription, limit, True
    )


def check_site_can_redeem(site, today=None, subscription=_UNREAD):
    """Raises ``SiteError`` with code ``site_not_qualified`` or ``site_suspended`` when the site
    may not redeem passes. The redemption calls this before anything else."""
    if (
        site is None
        or site.status
        in (
            QualificationStatus.DRAFT,
            QualificationStatus.SUBMITTED,
            QualificationStatus.CHANGES_REQUESTED,
            QualificationStatus.REJECTED,
            QualificationStatus.DISQUALIFIED,
        )
        or not site.organisation.is_active
    ):
        raise SiteError(
            "Cette structure n'est pas qualifiée pour le Pass numérique : elle ne peut pas encaisser de pass.",
            code=Refusal.SITE_NOT_QUALIFIED,
        )
    if site.status == QualificationStatus.SUSPENDED:
        raise SiteError(
            "La qualification de cette structure est suspendue : elle ne peut pas encaisser de pass pour l'instant.",
            code=Refusal.SITE_SUSPENDED,
        )
    if subscription_state(site, today, subscription).blocks_redemption:
        raise SiteError(
            "L'abonnement annuel de cette structure est impayé : l'encaissement des pass est suspendu jusqu'au "
            "paiement.",
            code=Refusal.SITE_SUSPENDED,
        )
    return site


def check_site_may_check_passes(*, organisation):
    """Testing a pass is for qualified sites (a suspended one still may, to answer a
    beneficiary): an unqualified organisation would otherwise probe codes it can never redeem."""
    try:
        check_site_can_redeem(site_of(organisation))
    except SiteError as error:
        if error.code == Refusal.SITE_NOT_QUALIFIED:
            raise


def can_redeem(site, today=None):
    """``(True, None)`` or ``(False, code)`` with the code of ``check_site_can_redeem``."""
    try:
        check_site_can_redeem(site, today)
    except SiteError as error:
        return False, error.code
    return True, None


def site_documents(site):
    return SupportingDocument.objects.filter(site=site).order_by("-uploaded_at")


def scheme_site_counts() -> dict[str, int]:
    """Sites per qualification status, every status present (zero when none) — one GROUP BY."""
    from django.db.models import Count

    counts = dict.fromkeys(QualificationStatus.values, 0)
    for row in Site.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    return counts
