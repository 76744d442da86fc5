"""Checks of a place's address and contact: commune codes, postcode, coordinates, phone. Each
``check_*`` returns the cleaned value or raises ``SiteError`` tied to the form field.
"""

import re
from decimal import Decimal, InvalidOperation

from mediators.errors import SiteError
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors

INSEE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


POSTCODE_RE = re.compile(r"^\d{5}$")


def check_postcode(value):
    value = (value or "").strip().replace(" ", "")
    if not POSTCODE_RE.match(value):
        raise SiteError(
            "Un code postal compte 5 chiffres, par exemple 33400.", code="postcode_invalid", field="postcode"
        )
    departments = territory_selectors.postcode_departments(postcode=value)
    if not territory_selectors.known_departments(codes=departments):
        raise SiteError(
            "Ce code postal ne correspond à aucun département français.", code="postcode_unknown", field="postcode"
        )
    return value


def check_insee_code(value):
    value = (value or "").strip().upper()
    if not INSEE_RE.match(value):
        raise SiteError(
            "Un code INSEE de commune compte 5 caractères : 5 chiffres, ou 2A / 2B suivi de 3 chiffres en Corse "
            "(par exemple 33522 pour Talence). Attention, ce n'est pas le code postal.",
            code="insee_invalid",
            field="insee_code",
        )
    if territory_selectors.commune(code=value) is None:
        raise SiteError(
            f"Aucune commune n'a le code INSEE {value} : vérifiez-le (ce n'est pas le code postal), "
            "ou cherchez la commune par son nom.",
            code=Refusal.INSEE_UNKNOWN,
            field="insee_code",
        )
    return value


def check_postcode_matches_insee(postcode, insee_code):
    # By the referential, not by the first digits: 97150 is Saint-Martin's, not Guadeloupe's.
    if territory_selectors.department_of(insee_code=insee_code) not in territory_selectors.postcode_departments(
        postcode=postcode
    ):
        raise SiteError(
            f"Le code INSEE {insee_code} et le code postal {postcode} ne sont pas du même département : "
            "vérifiez l'un et l'autre.",
            code="insee_postcode_mismatch",
            field="insee_code",
        )


def check_coordinates(latitude, longitude):
    try:
        lat = Decimal(str(latitude).strip().replace(",", "."))
        lon = Decimal(str(longitude).strip().replace(",", "."))
    except (InvalidOperation, ValueError) as exc:
        raise SiteError(
            "Les coordonnées sont des nombres décimaux, par exemple 44.8094 et -0.5886.",
            code="coordinates_invalid",
            field="latitude",
        ) from exc
    if not (lat.is_finite() and lon.is_finite()):
        raise SiteError("Coordonnées invalides.", code="coordinates_invalid", field="latitude")
    if territory_selectors.territory_at(latitude=lat, longitude=lon) is not None:
        return lat.quantize(Decimal("0.000001")), lon.quantize(Decimal("0.000001"))
    raise SiteError(
        "Ces coordonnées sont hors de France : ni en métropole, ni dans un département ou une collectivité "
        "d'outre-mer. Vérifiez que la latitude et la longitude ne sont pas inversées ; vous pouvez les copier "
        "depuis adresse.data.gouv.fr.",
        code="coordinates_outside_france",
        field="latitude",
    )


PHONE_RE = re.compile(r"^(0[1-9]\d{8}|\+\d{9,12})$")


def check_phone(value):
    compact = re.sub(r"[\s.\-()]", "", value or "")
    if not compact:
        return ""
    if not PHONE_RE.match(compact):
        raise SiteError(
            "Numéro de téléphone invalide : 10 chiffres (par exemple 05 56 00 00 00) ou au format international.",
            code="phone_invalid",
            field="phone",
        )
    return compact


OVERSEAS_PREFIXES = {
    "0590": "+590",
    "0690": "+590",
    "0594": "+594",
    "0694": "+594",
    "0262": "+262",
    "0692": "+262",
    "0693": "+262",
    "0269": "+262",
    "0639": "+262",
    "0596": "+596",
    "0696": "+596",
    # Saint-Pierre-et-Miquelon (Saint-Martin and Saint-Barthélemy share Guadeloupe's 0590 / 0690;
    # the Pacific collectivities have no leading 0: their numbers are typed with +687, +689, +681).
    "0508": "+508",
}


def international_phone(value):
    """The phone in the open-data format: +33 (or an overseas code) without the leading 0."""
    if not value:
        return ""
    if value.startswith("+"):
        return value
    prefix = OVERSEAS_PREFIXES.get(value[:4])
    if prefix:
        return prefix + value[1:]
    return "+33" + value[1:]
