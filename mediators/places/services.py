"""Use cases of a site's places: points de présence, the catalogue of #APTIC services it offers
and its workshops. Atomic, checked by ``check_*`` validators, audited.
"""

from django.db import transaction
from django.utils import timezone

from aptic_catalog.selectors import active_services
from mediators.errors import SiteError
from mediators.places.models import CatalogueFormat, CatalogueItem, PointOfPresence, Workshop
from mediators.places.validators import (
    check_coordinates,
    check_insee_code,
    check_phone,
    check_postcode,
    check_postcode_matches_insee,
)
from passnum.audit.services import record, snapshot
from passnum.refusals import Refusal

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


def check_workshop(*, site, service_code, point_of_presence, starts_at, duration_minutes, seats):
    service = check_catalogue_service(service_code)
    if not CatalogueItem.objects.filter(site=site, service=service, is_active=True).exists():
        raise SiteError(
            "Ajoutez d'abord ce service à votre catalogue.", code=Refusal.SERVICE_NOT_IN_CATALOGUE, field="service"
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
