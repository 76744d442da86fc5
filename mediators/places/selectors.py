"""Reads of places: the public finder, the map, public workshops and the open data in the
national schema of mediation places.
"""

import datetime

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from mediators.places.models import CatalogueFormat, CatalogueItem, PointOfPresence, Workshop
from mediators.places.search import filter_commune
from mediators.places.validators import international_phone
from mediators.qualification.models import (
    LegalForm,
    SiteAudience,
)
from passnum import audiences as audience_codes

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
            points = points.filter(department_filter(code=place))
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


def department_filter(*, code: str, prefix: str = "") -> Q:
    """Places of a department typed in the finder: « 33 » by postcode or INSEE code; « 978 » by
    INSEE code only, since Saint-Martin's postcode (97150) starts like Guadeloupe's."""
    by_insee = Q(**{f"{prefix}insee_code__startswith": code})
    return by_insee if len(code) == 3 else by_insee | Q(**{f"{prefix}postcode__startswith": code})


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
        if place.isdigit() and len(place) in (2, 3):
            workshops = workshops.filter(department_filter(code=place, prefix="point_of_presence__"))
        elif place.isdigit():
            workshops = workshops.filter(point_of_presence__postcode__startswith=place)
        else:
            workshops = filter_commune(workshops, "point_of_presence__commune", place)
    if level:
        workshops = workshops.filter(level=level)
    return workshops.order_by("starts_at", "pk")


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
        "publics_specifiquement_adresses": _joined(audience_codes.schema_publics(link.audience for link in audiences)),
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


def open_data_places() -> list[dict]:
    """The places for the JSON export: a field with nothing to say is left out, not written as an
    empty string, which the national cartography's reader refuses as a value (« La typologie ''
    n'est pas une valeur admise »). The CSV keeps the empty cell, as the schema wants."""
    return [{field: value for field, value in row.items() if value != ""} for row in open_data_rows()]
