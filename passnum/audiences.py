"""The audiences (publics) of the Pass numérique: one coded vocabulary with French labels.

Programmes (the publics they target), beneficiaries (the publics a person belongs to) and sites
(the publics they address) store **codes**, never labels: a label can be reworded without
splitting the history that the reports group by code. The national codes are below (DESIGN §1's
list, plus the publics of the national schema of digital-inclusion places); a programme may add
its own, stored in ``sponsors.ProgrammeAudience`` with codes ``p-…`` that can never be a national
code (national codes have no hyphen). See docs/architecture.md « Les publics ».
"""

import re
import unicodedata

from django.db import models


class Audience(models.TextChoices):
    """The national codes, in the order forms show them."""

    SENIORS = "seniors", "Seniors"
    YOUTH = "youth", "Jeunes de 16 à 25 ans"
    YOUNG_WOMEN = "young_women", "Jeunes femmes de 16 à 25 ans"
    MINIMUM_INCOME = "minimum_income", "Bénéficiaires du RSA"
    JOB_SEEKERS = "job_seekers", "Demandeurs d'emploi"
    DISABILITY = "disability", "Personnes en situation de handicap"
    LOSS_OF_AUTONOMY = "loss_of_autonomy", "Personnes en perte d'autonomie"
    SCHOOL_DROPOUTS = "school_dropouts", "Décrocheurs scolaires"
    PRIORITY_AREAS = "priority_areas", "Habitants des quartiers prioritaires (QPV)"
    REMOTE_AREAS = "remote_areas", "Habitants des zones rurales isolées"
    STUDENTS = "students", "Étudiants"
    FAMILIES = "families", "Familles et enfants"
    WOMEN = "women", "Femmes"


NATIONAL_CODE = re.compile(r"^[a-z][a-z_]{1,19}$")
PROGRAMME_CODE = re.compile(r"^p-[a-z0-9]+(-[a-z0-9]+)*$")
PROGRAMME_CODE_MAX = 40
PROGRAMME_PREFIX = "p-"
LABEL_MAX = 100
NO_AUDIENCE = "aucun"
NO_AUDIENCE_LABEL = "Aucun public indiqué"

# The national schema of digital-inclusion places (open data, ``/api/v1/sites``) has its own,
# shorter list of publics: the one place where our codes meet it. Codes absent here are not
# exported (the schema has no value for them).
SCHEMA_PUBLICS = {
    Audience.YOUTH: ("Jeunes",),
    Audience.YOUNG_WOMEN: ("Jeunes", "Femmes"),
    Audience.STUDENTS: ("Étudiants",),
    Audience.FAMILIES: ("Familles et/ou enfants",),
    Audience.SENIORS: ("Seniors",),
    Audience.WOMEN: ("Femmes",),
}

# Labels used before the codes (the programmes' former list, the sites' former labels) and common
# wordings: what the data migrations and the services read as a national code.
ALIASES = {
    "jeunes (16-25 ans)": Audience.YOUTH,
    "jeunes 16-25 ans": Audience.YOUTH,
    "jeunes": Audience.YOUTH,
    "jeunes femmes": Audience.YOUNG_WOMEN,
    "allocataires du rsa": Audience.MINIMUM_INCOME,
    "beneficiaires du rsa": Audience.MINIMUM_INCOME,
    "rsa": Audience.MINIMUM_INCOME,
    "personnes agees": Audience.SENIORS,
    "handicap": Audience.DISABILITY,
    "habitants des quartiers prioritaires": Audience.PRIORITY_AREAS,
    "qpv": Audience.PRIORITY_AREAS,
    "habitants des quartiers prioritaires et zones isolees": Audience.PRIORITY_AREAS,
    "familles et/ou enfants": Audience.FAMILIES,
    "familles": Audience.FAMILIES,
}


def normalised(text: str) -> str:
    """Lower case, no accents, one space between words: « Démandeurs  d’emploi » = « demandeurs d'emploi »."""
    text = str(text).replace("’", "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return " ".join(text.split())


_BY_LABEL = {normalised(label): code for code, label in Audience.choices}
_BY_LABEL.update({normalised(alias): code for alias, code in ALIASES.items()})


def national_code(value: str) -> str | None:
    """The national code that ``value`` is (a code) or names (a label, a former label, a common
    wording), else ``None``."""
    value = str(value or "").strip()
    if value in Audience.values:
        return value
    return _BY_LABEL.get(normalised(value))


def label(code: str, own: dict | None = None) -> str:
    """The French label of a code: national, else the programme's own (``own``: code → label)."""
    if code in Audience.values:
        return Audience(code).label
    if code == NO_AUDIENCE:
        return NO_AUDIENCE_LABEL
    return (own or {}).get(code, code)


def is_programme_code(code: str) -> bool:
    return bool(PROGRAMME_CODE.match(code or "")) and len(code) <= PROGRAMME_CODE_MAX


def programme_code_for(label_text: str, *, taken) -> str:
    """A new programme code for a label: ``p-`` and the label's words (« Aidants familiaux » →
    ``p-aidants-familiaux``), with ``-2``, ``-3``… when ``taken`` (codes of the programme) has it."""
    words = re.sub(r"[^a-z0-9]+", "-", normalised(label_text)).strip("-") or "public"
    base = (PROGRAMME_PREFIX + words)[: PROGRAMME_CODE_MAX - 4].rstrip("-")
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    return code


def schema_publics(codes) -> list[str]:
    """The national schema's publics for site codes, without repeats, in the schema's order."""
    found = {value for code in codes for value in SCHEMA_PUBLICS.get(code, ())}
    order = ["Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes"]
    return [value for value in order if value in found]


def codes_for(values, *, own: dict) -> list[str]:
    """The codes of ``values`` (codes or labels), in their order, without repeats: a national code
    or label (or a former wording) gives the national code; a code or label of ``own`` (the
    programme's own audiences, code → label) gives that code; any other label becomes a new code
    of the programme's own, **added to** ``own`` (the caller stores it). Used by the programme
    services and by the data migration that turned the former labels into codes."""
    by_label = {normalised(text): code for code, text in own.items()}
    codes = []
    for value in values:
        value = " ".join(str(value).split())[:LABEL_MAX]
        if not value:
            continue
        code = national_code(value) or (value if value in own else None) or by_label.get(normalised(value))
        if code is None:
            code = programme_code_for(value, taken=own)
            own[code] = value
            by_label[normalised(value)] = code
        if code not in codes:
            codes.append(code)
    return codes
