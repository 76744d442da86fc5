"""Reads of mediation sites: the application's missing steps, the subscription state, whether a
site may redeem passes (used by the redemption), the public finder and the open data."""

import datetime
from collections import namedtuple

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.urls import reverse
from django.utils import timezone

from aptic_catalog.models import Service, Subcategory
from mediators.models import (
    Answer,
    Audience,
    CatalogueFormat,
    CatalogueItem,
    DocumentKind,
    LegalForm,
    PayeeAccount,
    PointOfPresence,
    QualificationStatus,
    Question,
    RedeemedPass,
    Redemption,
    RedemptionKey,
    RefusedScan,
    SchemeSettings,
    Site,
    SiteAudience,
    Subscription,
    SubscriptionStatus,
    SupportingDocument,
    Workshop,
)
from mediators.search import filter_commune
from mediators.validators import SiteError, international_phone
from passnum.organisations.enums import Role
from passnum.organisations.selectors import members_of

Step = namedtuple("Step", ["key", "label", "url_name"])


def site_of(organisation):
    """The site of an organisation, or None (no write: see ``services.get_or_create_site``)."""
    return Site.objects.select_related("organisation").filter(organisation=organisation).first()


def admin_emails(site):
    return [m.user.email for m in members_of(site.organisation).filter(role=Role.ADMIN, user__is_active=True)]


# --- the application -----------------------------------------------------------------------


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
    if not PayeeAccount.objects.filter(site=site).exists():
        missing.append(Step("bank", "indiquer le compte bancaire des remboursements", "mediators:bank"))
    return missing


def application_queue():
    """The operator's queue: applications waiting for a decision, oldest first."""
    return (
        Site.objects.filter(status=QualificationStatus.SUBMITTED)
        .select_related("organisation")
        .order_by("submitted_at", "pk")
    )


# --- payee account and subscription ---------------------------------------------------------


def check_payee_payable(site):
    """No payment may go to an unverified account (DESIGN §6)."""
    account = PayeeAccount.objects.filter(site=site).first()
    if account is None:
        raise SiteError("Cette structure n'a pas indiqué de compte bancaire.", code="payee_missing")
    if not account.is_verified:
        raise SiteError(
            "Le compte bancaire de cette structure n'est pas encore vérifié par l'opérateur.",
            code="payee_not_verified",
        )
    return account


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


# --- the contract with the redemption --------------------------------------------------------


def check_site_can_redeem(site, today=None, subscription=_UNREAD):
    """Raises ``SiteError`` with code ``site_not_qualified`` or ``site_suspended`` when the site
    may not redeem passes (DESIGN §5). The redemption calls this before anything else."""
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
            code="site_not_qualified",
            status=403,
        )
    if site.status == QualificationStatus.SUSPENDED:
        raise SiteError(
            "La qualification de cette structure est suspendue : elle ne peut pas encaisser de pass pour l'instant.",
            code="site_suspended",
            status=403,
        )
    if subscription_state(site, today, subscription).blocks_redemption:
        raise SiteError(
            "L'abonnement annuel de cette structure est impayé : l'encaissement des pass est suspendu jusqu'au "
            "paiement.",
            code="site_suspended",
            status=403,
        )
    return site


def can_redeem(site, today=None):
    """``(True, None)`` or ``(False, code)`` with the code of ``check_site_can_redeem``."""
    try:
        check_site_can_redeem(site, today)
    except SiteError as error:
        return False, error.code
    return True, None


# --- public finder ---------------------------------------------------------------------------

ACCESSIBILITY_FLAGS = {
    "wheelchair": ("wheelchair_accessible", "Accessible en fauteuil roulant"),
    "hearing": ("hearing_support", "Accueil des personnes sourdes ou malentendantes"),
    "visual": ("visual_support", "Accueil des personnes malvoyantes"),
    "cognitive": ("cognitive_support", "Accueil des personnes avec un handicap mental"),
    "literacy": ("literacy_support", "Accompagnement en cas d'illettrisme"),
}
SOON_DAYS = 30


def find_points(*, place="", service=None, level=None, audience=None, accessibility=(), workshops_soon=False):
    """Open points of presence of qualified sites matching the finder's criteria, with their
    site, catalogue and next workshops prefetched (a constant number of queries)."""
    now = timezone.now()
    points = PointOfPresence.objects.visible_to_public().select_related("site__organisation")
    place = (place or "").strip()
    if place:
        if place.isdigit() and len(place) == 5:
            points = points.filter(Q(postcode=place) | Q(insee_code=place))
        elif place.isdigit() and len(place) in (2, 3):
            points = points.filter(postcode__startswith=place)
        else:
            points = filter_commune(points, "commune", place)
    catalogue = CatalogueItem.objects.filter(site=OuterRef("site"), is_active=True, service__is_active=True)
    if service is not None:
        points = points.filter(Exists(catalogue.filter(service__code=service)))
    if level is not None:
        points = points.filter(Exists(catalogue.filter(service__subcategory__level__number=level)))
    if audience:
        points = points.filter(Exists(SiteAudience.objects.filter(site=OuterRef("site"), audience=audience)))
    for flag in accessibility:
        points = points.filter(**{ACCESSIBILITY_FLAGS[flag][0]: True})
    upcoming = Workshop.objects.filter(is_cancelled=False, starts_at__gte=now)
    if workshops_soon:
        points = points.filter(
            Exists(upcoming.filter(point_of_presence=OuterRef("pk"), starts_at__lt=now + datetime.timedelta(SOON_DAYS)))
        )
    return points.order_by("commune", "name", "pk").prefetch_related(
        Prefetch(
            "site__catalogue",
            queryset=CatalogueItem.objects.filter(is_active=True, service__is_active=True).select_related("service"),
            to_attr="public_catalogue",
        ),
        Prefetch(
            "workshops",
            queryset=upcoming.select_related("service").order_by("starts_at"),
            to_attr="upcoming_workshops",
        ),
    )


def public_point(pk):
    """One point of presence of a qualified site (None otherwise)."""
    return find_points().filter(pk=pk).first()


MAP_MAX_POINTS = 500


def map_points(points, *, limit=MAP_MAX_POINTS):
    """The markers of the finder's map for the points of ``find_points(...)``, in one query:
    ``(markers, truncated)``, at most ``limit`` markers, each a dict with ``id``, ``name``,
    ``commune``, ``postcode``, ``lat``, ``lon`` and ``url`` (the public page of the place). A
    point without coordinates is left out (it stays in the list)."""
    rows = list(
        points.prefetch_related(None).values_list("pk", "name", "commune", "postcode", "latitude", "longitude")[
            : limit + 1
        ]
    )
    markers = [
        {
            "id": pk,
            "name": name,
            "commune": commune,
            "postcode": postcode,
            "lat": float(latitude),
            "lon": float(longitude),
            "url": reverse("mediators:public_point", args=[pk]),
        }
        for pk, name, commune, postcode, latitude, longitude in rows[:limit]
        if latitude is not None and longitude is not None
    ]
    return markers, len(rows) > limit


def public_workshops(*, place="", level=None):
    workshops = Workshop.objects.visible_to_public().select_related(
        "service", "point_of_presence", "site__organisation"
    )
    place = (place or "").strip()
    if place:
        if place.isdigit():
            workshops = workshops.filter(point_of_presence__postcode__startswith=place)
        else:
            workshops = filter_commune(workshops, "point_of_presence__commune", place)
    if level:
        workshops = workshops.filter(level=level)
    return workshops.order_by("starts_at", "pk")


# --- open data (LaMednum/standard-mediation-num v1.0.2) ---------------------------------------

OPEN_DATA_FIELDS = [
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
]

# The schema's nine kinds of services: from the #APTIC sub-category, else from its theme.
SUBCATEGORY_TO_SCHEMA = {
    "2.2": "Aide aux démarches administratives",
    "3.3": "Utilisation sécurisée du numérique",
    "3.1": "Utilisation sécurisée du numérique",
    "3.5": "Insertion professionnelle via le numérique",
}
THEME_TO_SCHEMA = {
    1: "Insertion professionnelle via le numérique",
    2: "Aide aux démarches administratives",
    3: "Maîtrise des outils numériques du quotidien",
    4: "Maîtrise des outils numériques du quotidien",
    5: "Compréhension du monde numérique",
    6: "Parentalité et éducation avec le numérique",
    7: "Loisirs et créations numériques",
    8: "Insertion professionnelle via le numérique",
}
LEVEL_TO_SCHEMA = {
    1: "Compréhension du monde numérique",
    2: "Maîtrise des outils numériques du quotidien",
    3: "Compréhension du monde numérique",
}
AUDIENCE_TO_SCHEMA = {
    Audience.YOUTH: "Jeunes",
    Audience.STUDENTS: "Étudiants",
    Audience.FAMILIES: "Familles et/ou enfants",
    Audience.SENIORS: "Seniors",
    Audience.WOMEN: "Femmes",
}
FLAG_TO_SCHEMA = [
    ("hearing_support", "Surdité"),
    ("wheelchair_accessible", "Handicaps moteurs"),
    ("cognitive_support", "Handicaps mentaux"),
    ("literacy_support", "Illettrisme"),
    ("visual_support", "Déficience visuelle"),
]
# data.inclusion typologies of structures.
LEGAL_FORM_TO_TYPOLOGY = {
    LegalForm.ASSOCIATION: "ASSO",
    LegalForm.COMMUNE: "MUNI",
    LegalForm.CCAS: "CCAS",
    LegalForm.EPCI: "EPCI",
    LegalForm.DEPARTMENT: "CD",
}
ACCEPTANCE_LABEL = "Structure qualifiée Pass numérique (chèques APTIC acceptés)"
ACCEPTANCE_TEXT = (
    "Ce lieu est qualifié pour le Pass numérique : les Pass numériques (chèques APTIC) y sont acceptés en "
    "paiement des services de son catalogue"
)
SCHEMA_PHONE_PREFIXES = ("+33", "+590", "+594", "+262", "+596", "+269", "+687", "+689", "+508", "+681")


def open_data_points():
    return (
        PointOfPresence.objects.visible_to_public()
        .select_related("site__organisation")
        .prefetch_related(
            Prefetch(
                "site__catalogue",
                queryset=CatalogueItem.objects.filter(is_active=True).select_related(
                    "service__subcategory__level", "service__theme"
                ),
                to_attr="public_catalogue",
            ),
            Prefetch("site__audience_links", to_attr="audiences"),
        )
        .order_by("pk")
    )


def _joined(values):
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return "|".join(seen)


def _schema_service(service):
    subcategory = service.subcategory
    if subcategory.code in SUBCATEGORY_TO_SCHEMA:
        return SUBCATEGORY_TO_SCHEMA[subcategory.code]
    if service.theme_id is not None and service.theme.code in THEME_TO_SCHEMA:
        return THEME_TO_SCHEMA[service.theme.code]
    return LEVEL_TO_SCHEMA.get(subcategory.level.number, "Maîtrise des outils numériques du quotidien")


def open_data_row(point):
    """One point of presence in the national schema (every field, empty string when unknown)."""
    site = point.site
    organisation = site.organisation
    catalogue = getattr(site, "public_catalogue", None)
    if catalogue is None:
        catalogue = list(
            site.catalogue.filter(is_active=True).select_related("service__subcategory__level", "service__theme")
        )
    audiences = getattr(site, "audiences", None)
    if audiences is None:
        audiences = list(site.audience_links.all())
    phone = international_phone(point.phone)
    if not phone.startswith(SCHEMA_PHONE_PREFIXES) or not phone[1:].isdigit():
        phone = ""
    formats = {item.format for item in catalogue}
    detail = ACCEPTANCE_TEXT
    if point.regulated_free:
        detail += ", sans rien avoir à payer de plus"
    detail += "."
    updated = max(point.updated_at, site.updated_at)
    return {
        "id": f"passnum-{point.pk}",
        "pivot": organisation.siret,
        "nom": point.name,
        "commune": point.commune,
        "code_postal": point.postcode,
        "code_insee": point.insee_code,
        "adresse": point.address,
        "complement_adresse": point.address_complement,
        "latitude": float(point.latitude),
        "longitude": float(point.longitude),
        "typologie": LEGAL_FORM_TO_TYPOLOGY.get(site.legal_form, ""),
        "telephone": phone,
        "courriels": point.email or organisation.email,
        "site_web": site.website,
        "horaires": point.opening_hours,
        "presentation_resume": site.presentation[:280],
        "presentation_detail": detail,
        "source": "Passnum",
        "itinerance": "Itinérant" if point.is_mobile else "Fixe",
        "structure_parente": organisation.name if organisation.name != point.name else "",
        "date_maj": timezone.localtime(updated).date().isoformat(),
        "services": _joined(sorted(_schema_service(item.service) for item in catalogue)),
        "publics_specifiquement_adresses": _joined(
            AUDIENCE_TO_SCHEMA.get(link.audience) for link in sorted(audiences, key=lambda a: a.audience)
        ),
        "prise_en_charge_specifique": _joined(label for flag, label in FLAG_TO_SCHEMA if getattr(point, flag)),
        # With a pass, the person pays nothing for a regulated service: free under condition.
        "frais_a_charge": "Gratuit sous condition" if point.regulated_free else "Payant",
        # The schema's list of national programmes (v1.0.2) has no "Pass numérique" value: the
        # acceptance is stated in ``autres_formations_labels`` and ``presentation_detail``.
        "dispositif_programmes_nationaux": "",
        "formations_labels": "",
        "autres_formations_labels": ACCEPTANCE_LABEL,
        "modalites_acces": _joined(
            [
                "Se présenter",
                "Téléphoner" if phone else "",
                "Contacter par mail" if (point.email or organisation.email) else "",
            ]
        ),
        "modalites_accompagnement": _joined(
            [
                "Accompagnement individuel" if CatalogueFormat.INDIVIDUAL in formats else "",
                "Dans un atelier collectif" if CatalogueFormat.COLLECTIVE in formats else "",
            ]
        ),
        "fiche_acces_libre": "",
        "prise_rdv": "",
    }


def open_data_rows():
    return [open_data_row(point) for point in open_data_points()]


def site_documents(site):
    return SupportingDocument.objects.filter(site=site).order_by("-uploaded_at")


# --- redemption (DESIGN §5) --------------------------------------------------------------------

UNDO_WINDOW = datetime.timedelta(hours=24)


def live_redemption_of(pass_ids):
    """The live redemption of one of these passes (when and where it was redeemed), or None."""
    line = (
        RedeemedPass.objects.filter(pass_ref_id__in=pass_ids, is_live=True)
        .select_related("redemption__site", "redemption__point_of_presence", "redemption__redeemed_by")
        .first()
    )
    return line.redemption if line else None


def is_undoable(redemption, now=None):
    """Whether a redemption may still be undone: live, not on a statement, within 24 hours
    (``services.undo_redemption`` refuses the others, each with its code)."""
    now = now or timezone.now()
    return (
        redemption.undone_at is None and redemption.settled_at is None and now - redemption.redeemed_at <= UNDO_WINDOW
    )


def redemption_as_dict(redemption, codes=None):
    """The API's body of a redemption (also stored as the answer of its idempotency key). Without
    ``codes``, they are read from its lines (prefetch ``lines__pass_ref``)."""
    from passnum.passes.codes import grouped

    if codes is None:
        codes = [line.pass_ref.code for line in redemption.lines.all()]
    return {
        "id": str(redemption.pk),
        "status": "live" if redemption.undone_at is None else "undone",
        "codes": [grouped(code) for code in codes],
        "booklet": redemption.booklet.serial,
        "programme": redemption.programme.name,
        "service": {"code": redemption.service.code, "title": redemption.service.title},
        "point_of_presence": {"id": redemption.point_of_presence_id, "name": redemption.point_of_presence.name},
        "pass_count": redemption.pass_count,
        "amount_cents": redemption.amount_cents,
        "beneficiary_share_cents": redemption.beneficiary_share_cents,
        "scanned_at": redemption.scanned_at.isoformat(),
        "redeemed_at": redemption.redeemed_at.isoformat(),
        "undo_until": (redemption.redeemed_at + UNDO_WINDOW).isoformat(),
        "undone_at": redemption.undone_at.isoformat() if redemption.undone_at else None,
    }


def redemptions_of(organisation, *, month=None, service_code=None, point_id=None):
    """A site's redemptions, newest first, optionally for one month (``date`` of its first day),
    one #APTIC service or one point of presence."""
    redemptions = Redemption.objects.for_organisation(organisation).select_related(
        "service", "point_of_presence", "booklet", "programme", "redeemed_by"
    )
    if month is not None:
        start = timezone.make_aware(datetime.datetime(month.year, month.month, 1))
        end = timezone.make_aware(datetime.datetime(month.year + month.month // 12, month.month % 12 + 1, 1))
        redemptions = redemptions.filter(redeemed_at__gte=start, redeemed_at__lt=end)
    if service_code is not None:
        redemptions = redemptions.filter(service__code=service_code)
    if point_id is not None:
        redemptions = redemptions.filter(point_of_presence_id=point_id)
    return redemptions.prefetch_related("lines__pass_ref").order_by("-redeemed_at")


def redemption_totals(redemptions):
    """Count, passes and amount (cents) of the live redemptions of a queryset."""
    return redemptions.filter(undone_at__isnull=True).aggregate(
        count=Count("pk"), passes=Sum("pass_count", default=0), amount_cents=Sum("amount_cents", default=0)
    )


def refused_scans_of(organisation):
    return RefusedScan.objects.for_organisation(organisation).select_related("point_of_presence", "service", "user")


def stored_redemption_answer(organisation, key):
    """The stored answer of an idempotency key: ``(request_hash, status, body)`` or None."""
    return (
        RedemptionKey.objects.filter(organisation=organisation, key=key)
        .values_list("request_hash", "status_code", "response_body")
        .first()
    )


RedemptionContext = namedtuple("RedemptionContext", ["site", "subscription", "point", "item"])

# The redemption's hot path reads what it checks about the site in one statement, in plain SQL:
# the ORM would spend more time writing this query than PostgreSQL spends answering it.
_CONTEXT_SQL = """
SELECT site.id, site.status, sub.status, sub.due_date,
       point.id, point.name, point.insee_code,
       item.passes_required, service.id, service.code, service.title, subcategory.id, subcategory.level_id
FROM mediators_site site
LEFT JOIN mediators_subscription sub ON sub.site_id = site.id AND sub.year = %s
LEFT JOIN mediators_pointofpresence point ON point.site_id = site.id AND point.id = %s AND point.is_active
LEFT JOIN aptic_catalog_service service ON service.code = %s
LEFT JOIN mediators_catalogueitem item
       ON item.site_id = site.id AND item.service_id = service.id AND item.is_active
LEFT JOIN aptic_catalog_subcategory subcategory ON subcategory.id = service.subcategory_id
WHERE site.organisation_id = %s
"""


def redemption_context(organisation, point_id, service_code, today):
    """The site of ``organisation``, this year's subscription, the open point of presence
    ``point_id`` of the site and its active catalogue entry for the #APTIC service
    ``service_code``, as unsaved model instances (``None`` where missing), in one query."""
    with connection.cursor() as cursor:
        cursor.execute(_CONTEXT_SQL, [today.year, point_id, service_code, organisation.pk])
        row = cursor.fetchone()
    if row is None:
        return RedemptionContext(None, None, None, None)
    site_id, status, sub_status, sub_due, point_pk, point_name, insee, passes_required, *service = row
    site = Site(pk=site_id, status=status, organisation=organisation)
    subscription = None
    if sub_status is not None:
        due = sub_due if isinstance(sub_due, datetime.date) else datetime.date.fromisoformat(sub_due)
        subscription = Subscription(site=site, year=today.year, status=sub_status, due_date=due)
    point = PointOfPresence(pk=point_pk, site=site, name=point_name, insee_code=insee) if point_pk else None
    item = None
    if passes_required is not None:
        service_pk, code, title, subcategory_pk, level_id = service
        subcategory = Subcategory(pk=subcategory_pk, level_id=level_id)
        item = CatalogueItem(
            site=site,
            passes_required=passes_required,
            service=Service(pk=service_pk, code=code, title=title, subcategory=subcategory),
        )
    return RedemptionContext(site, subscription, point, item)
