"""Reads of the referential: names for codes, codes checked, communes searched by name, the
departments of a postcode, and where on Earth each territory of the scheme lies."""

import re
from decimal import Decimal

from mediators.places.search import fold
from passnum.territories.models import Commune, Department, TerritoryVersion

SEARCH_LIMIT = 20
CODE_RE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def department_of(*, insee_code: str) -> str:
    """The department of a commune's INSEE code: three characters overseas (971 to 989)."""
    return insee_code[:3] if insee_code.startswith(("97", "98")) else insee_code[:2]


def commune(*, code: str) -> Commune | None:
    return Commune.objects.filter(code=(code or "").strip().upper()).first()


def department(*, code: str) -> Department | None:
    return Department.objects.filter(code=(code or "").strip().upper()).first()


def unknown_communes(*, codes: list[str]) -> list[str]:
    """The codes of ``codes`` that name no commune of the referential (order kept)."""
    known = set(Commune.objects.filter(code__in=codes).values_list("code", flat=True))
    return [code for code in codes if code not in known]


def unknown_departments(*, codes: list[str]) -> list[str]:
    known = set(Department.objects.filter(code__in=codes).values_list("code", flat=True))
    return [code for code in codes if code not in known]


def commune_labels(*, codes: list[str]) -> dict[str, str]:
    """``{"33063": "Bordeaux (33)"}`` for the known codes; an unknown code reads as itself."""
    names = dict(Commune.objects.filter(code__in=codes).values_list("code", "name"))
    return {code: f"{names[code]} ({department_of(insee_code=code)})" if code in names else code for code in codes}


# The hundred-odd departments and collectivities, read once per process: a page naming them (a
# programme's territory, a report by department) then asks nothing. An import of the referential
# empties it (``services.import_referential``); a code it does not hold is still asked for.
_DEPARTMENT_NAMES: dict[str, str] = {}


def forget_department_names() -> None:
    _DEPARTMENT_NAMES.clear()


def department_labels(*, codes: list[str]) -> dict[str, str]:
    """``{"33": "Gironde (33)"}``; an unknown code reads as itself."""
    if not _DEPARTMENT_NAMES:
        _DEPARTMENT_NAMES.update(Department.objects.values_list("code", "name"))
    names = dict(_DEPARTMENT_NAMES)
    missing = [code for code in codes if code not in names]
    if missing:
        names.update(Department.objects.filter(code__in=missing).values_list("code", "name"))
    return {code: f"{names[code]} ({code})" if code in names else code for code in codes}


def territory_label(*, departments: list[str], communes: list[str]) -> str:
    """A programme's territory in words: « Gironde (33), Bordeaux (33), Talence (33) »."""
    labels = department_labels(codes=list(departments or [])) | commune_labels(codes=list(communes or []))
    return ", ".join(labels[code] for code in [*(departments or []), *(communes or [])])


def postcode_departments(*, postcode: str) -> set[str]:
    """The departments whose communes use ``postcode`` (97150 → {"978"}, Saint-Martin). A
    postcode no commune lists (a CEDEX code) falls back to its first digits."""
    found = set(
        Commune.objects.filter(postcodes__contains=f" {postcode} ").values_list("department", flat=True).distinct()
    )
    if found:
        return found
    if postcode.startswith(("97", "98")):
        return {postcode[:3]}
    if postcode.startswith("20"):
        return {"2A", "2B"}
    return {postcode[:2]}


def known_departments(*, codes: set[str]) -> set[str]:
    return set(Department.objects.filter(code__in=codes).values_list("code", flat=True))


def search_communes(*, query: str, limit: int = SEARCH_LIMIT) -> list[Commune]:
    """Communes whose name contains ``query``, accents, case, hyphens and apostrophes aside
    (« saint barth » finds Saint-Barthélemy); a number is read as the start of a code or a
    postcode. Names that start with the query come first, then the most common spelling order."""
    text = (query or "").strip()
    if not text:
        return []
    if text.isdigit():
        if len(text) < 2:
            return []
        rows = Commune.objects.filter(code__startswith=text) | Commune.objects.filter(postcodes__contains=f" {text}")
        return list(rows.order_by("code")[:limit])
    folded = fold(text)
    if len(folded) < 2:
        return []
    starting = list(Commune.objects.filter(folded_name__startswith=folded).order_by("folded_name", "code")[:limit])
    if len(starting) >= limit:
        return starting
    seen = {c.pk for c in starting}
    containing = (
        Commune.objects.filter(folded_name__contains=folded).exclude(pk__in=seen).order_by("folded_name", "code")
    )
    return starting + list(containing[: limit - len(starting)])


LABEL_RE = re.compile(r"^(?P<name>.+?)\s*\((?P<department>\d{2,3}|2[AB])\)$", re.IGNORECASE)


def communes_named(*, text: str) -> list[Commune]:
    """The communes a person means by ``text``: a code (« 33063 »), a name (« bordeaux »,
    accents aside) or a name with its department (« Saint-Denis (974) »)."""
    text = (text or "").strip()
    if CODE_RE.match(text.upper()):
        return list(Commune.objects.filter(code=text.upper()))
    match = LABEL_RE.match(text)
    communes = Commune.objects.filter(folded_name=fold(match["name"] if match else text))
    if match:
        communes = communes.filter(department=match["department"].upper())
    return list(communes.order_by("code")[:SEARCH_LIMIT])


def latest_version() -> TerritoryVersion | None:
    return TerritoryVersion.objects.order_by("-number").first()


# Where each territory of the referential lies: (name, south, north, west, east), in degrees,
# rough boxes drawn for Passnum (the package has no shapes). Coordinates outside every box are
# refused; Saint-Martin and Saint-Barthélemy lie 200 km north of Guadeloupe,
# Saint-Pierre-et-Miquelon off Newfoundland, the French Southern Lands on several oceans.
TERRITORY_BOXES = [
    ("France métropolitaine", 41.3, 51.15, -5.25, 9.65),
    ("Guadeloupe", 15.8, 16.55, -61.85, -60.95),
    ("Martinique", 14.35, 14.9, -61.25, -60.8),
    ("Guyane", 2.1, 5.8, -54.65, -51.6),
    ("La Réunion", -21.4, -20.85, 55.2, 55.85),
    ("Mayotte", -13.05, -12.6, 44.95, 45.35),
    ("Saint-Pierre-et-Miquelon", 46.7, 47.2, -56.5, -56.05),
    ("Saint-Barthélemy", 17.85, 17.98, -62.95, -62.75),
    ("Saint-Martin", 18.0, 18.15, -63.18, -62.95),
    ("Wallis-et-Futuna", -14.4, -13.1, -178.3, -176.0),
    ("Polynésie française", -28.0, -7.8, -155.0, -134.0),
    ("Nouvelle-Calédonie", -23.0, -17.8, 162.9, 168.5),
    ("Île de Clipperton", 10.2, 10.4, -109.3, -109.1),
    ("Terres australes et antarctiques françaises", -50.1, -48.4, 68.4, 70.7),  # Kerguelen
    ("Terres australes et antarctiques françaises", -46.6, -45.9, 50.1, 52.4),  # Crozet
    ("Terres australes et antarctiques françaises", -38.8, -37.7, 77.4, 77.7),  # Saint-Paul, Amsterdam
    ("Terres australes et antarctiques françaises", -90.0, -65.5, 136.0, 142.0),  # Terre-Adélie
    ("Terres australes et antarctiques françaises", -22.5, -21.3, 39.6, 40.5),  # Europa, Bassas da India
    ("Terres australes et antarctiques françaises", -17.2, -16.9, 42.6, 42.8),  # Juan de Nova
    ("Terres australes et antarctiques françaises", -11.7, -11.4, 47.2, 47.5),  # Glorieuses
    ("Terres australes et antarctiques françaises", -15.95, -15.85, 54.45, 54.6),  # Tromelin
]


def territory_at(*, latitude: Decimal, longitude: Decimal) -> str | None:
    """The name of the territory of the scheme that holds these coordinates, or None."""
    for name, south, north, west, east in TERRITORY_BOXES:
        if Decimal(str(south)) <= latitude <= Decimal(str(north)) and Decimal(str(west)) <= longitude <= Decimal(
            str(east)
        ):
            return name
    return None
