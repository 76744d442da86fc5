"""Use cases of the #APTIC referential: checking and importing a referential file.

A file is checked as a whole before anything is written: the operator gets every error at
once, with its line number, and a faulty file never leaves the referential half updated.
"""

import csv
import hashlib
import io
import re
from pathlib import Path

from django.db import IntegrityError, transaction

from aptic_catalog.models import Level, ReferentialVersion, Service, Subcategory, Theme
from passnum.audit.services import record
from passnum.errors import DomainError

COLUMNS = (
    "code",
    "title",
    "level",
    "level_title",
    "subcategory",
    "subcategory_title",
    "theme_code",
    "theme_title",
)
BUNDLED_FILE = Path(__file__).resolve().parent / "data" / "aptic_services.csv"
BUNDLED_SOURCE_NAME = "aptic_services.csv (fichier fourni avec Passnum)"
SUBCATEGORY_CODE = re.compile(r"^(\d+)\.(\d+)$")
TITLE_MAX_LENGTH = Service._meta.get_field("title").max_length
HEADING_MAX_LENGTH = Level._meta.get_field("title").max_length


class ReferentialImportError(DomainError):
    """The file was refused; ``errors`` lists every ``(line, message)`` found in it."""

    code = "referential_invalid"
    message = "Le fichier du référentiel contient des erreurs : rien n'a été importé."

    def __init__(self, errors, message=None):
        self.errors = sorted(errors, key=lambda error: error[0])
        super().__init__(message, errors=[{"line": line, "message": text} for line, text in self.errors])

    def __str__(self):
        details = " ; ".join(f"ligne {line} : {text}" for line, text in self.errors)
        return f"{self.message} {details}"


# --- Checking -----------------------------------------------------------------------------


def _text(value):
    """A cell as stripped text; spreadsheets give 12.0 for 12, which is read back as "12"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _integer(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_headers(headers):
    """Errors of the header line (line 1): every column of ``COLUMNS`` must be there."""
    present = {_text(header) for header in headers or []}
    missing = [column for column in COLUMNS if column not in present]
    if missing:
        return [(1, f"colonne manquante : {', '.join(missing)}.")]
    return []


def check_rows(numbered_rows):
    """Checks ``(line, row dict)`` pairs; returns ``(clean rows, errors)``.

    Clean rows have integer codes and stripped titles; ``errors`` is a list of
    ``(line, French reason)``. A level, sub-category or theme appearing on several lines must
    carry the same title everywhere, otherwise the result would depend on the order of lines.
    """
    clean_rows, errors = [], []
    lines_by_code = {}
    seen = {"level": {}, "subcategory": {}, "theme": {}}

    def same_everywhere(kind, key, value, line, described):
        first = seen[kind].setdefault(key, (value, line))
        if first[0] != value:
            errors.append((line, f"{described} autrement ligne {first[1]}."))

    for line, raw in numbered_rows:
        if None in raw:  # csv.DictReader puts the surplus cells of a row under the key None
            errors.append((line, f"la ligne a plus de {len(COLUMNS)} colonnes."))
            continue
        if any(raw.get(column) is None for column in COLUMNS):
            errors.append((line, "la ligne est incomplète : il manque des colonnes."))
            continue
        row = {column: _text(raw[column]) for column in COLUMNS}
        row_errors = []

        code = _integer(row["code"])
        if not row["code"]:
            row_errors.append("le code du service est vide.")
        elif code is None:
            row_errors.append(f"le code « {row['code']} » n'est pas un nombre entier.")
        elif code < 1:
            row_errors.append(f"le code {code} doit être supérieur ou égal à 1.")
        elif code in lines_by_code:
            row_errors.append(f"le code {code} figure déjà ligne {lines_by_code[code]}.")
        else:
            lines_by_code[code] = line

        if not row["title"]:
            row_errors.append("l'intitulé du service est vide.")
        elif len(row["title"]) > TITLE_MAX_LENGTH:
            row_errors.append(f"l'intitulé du service dépasse {TITLE_MAX_LENGTH} caractères.")

        level = _integer(row["level"])
        if level not in (1, 2, 3):
            row_errors.append(f"le niveau « {row['level']} » doit être 1, 2 ou 3.")
            level = None
        if not row["level_title"]:
            row_errors.append("l'intitulé du niveau est vide.")

        subcategory = SUBCATEGORY_CODE.match(row["subcategory"])
        if subcategory is None:
            row_errors.append(f"la sous-catégorie « {row['subcategory']} » doit s'écrire comme 2.1.")
        elif level is not None and int(subcategory.group(1)) != level:
            row_errors.append(f"la sous-catégorie {row['subcategory']} ne commence pas par son niveau ({level}).")
        if not row["subcategory_title"]:
            row_errors.append("l'intitulé de la sous-catégorie est vide.")

        theme_code = _integer(row["theme_code"])
        if row["theme_code"] and (theme_code is None or theme_code < 1):
            row_errors.append(f"le code de thème « {row['theme_code']} » n'est pas un nombre entier positif.")
        if theme_code and not row["theme_title"]:
            row_errors.append("l'intitulé du thème est vide.")
        if row["theme_title"] and not row["theme_code"]:
            row_errors.append("un intitulé de thème est donné sans code de thème.")

        for column in ("level_title", "subcategory_title", "theme_title"):
            if len(row[column]) > HEADING_MAX_LENGTH:
                row_errors.append(f"la colonne {column} dépasse {HEADING_MAX_LENGTH} caractères.")

        if row_errors:
            errors.extend((line, message) for message in row_errors)
            continue

        same_everywhere("level", level, row["level_title"], line, f"le niveau {level} est déjà décrit")
        same_everywhere(
            "subcategory",
            row["subcategory"],
            (level, row["subcategory_title"]),
            line,
            f"la sous-catégorie {row['subcategory']} est déjà décrite",
        )
        if theme_code:
            described = f"le thème {theme_code} est déjà décrit"
            same_everywhere("theme", theme_code, row["theme_title"], line, described)
        clean_rows.append(
            {
                "code": code,
                "title": row["title"],
                "level": level,
                "level_title": row["level_title"],
                "subcategory": row["subcategory"],
                "subcategory_title": row["subcategory_title"],
                "theme_code": theme_code,
                "theme_title": row["theme_title"],
            }
        )

    if not clean_rows and not errors:
        errors.append((2, "le fichier ne contient aucun service."))
    return clean_rows, errors


def _read_bytes(file_or_text):
    if isinstance(file_or_text, Path):
        return file_or_text.read_bytes()
    if hasattr(file_or_text, "read"):
        if hasattr(file_or_text, "seek"):
            file_or_text.seek(0)
        file_or_text = file_or_text.read()
    if isinstance(file_or_text, str):
        return file_or_text.encode("utf-8")
    return bytes(file_or_text)


def parse_referential(content):
    """Reads the CSV bytes; returns the clean rows or raises ``ReferentialImportError``."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ReferentialImportError([(line, "le fichier doit être encodé en UTF-8.")]) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header_errors = check_headers(reader.fieldnames)
    if header_errors:
        raise ReferentialImportError(header_errors)

    def numbered_rows():
        # A quoted cell may span lines: a row starts just after the end of the previous one.
        start = reader.line_num + 1
        for raw in reader:
            yield start, raw
            start = reader.line_num + 1

    try:
        rows, errors = check_rows(numbered_rows())
    except csv.Error as exc:
        raise ReferentialImportError([(reader.line_num, f"le fichier CSV est mal formé ({exc}).")]) from exc
    if errors:
        raise ReferentialImportError(errors)
    return rows


# --- Writing ------------------------------------------------------------------------------


def apply_structure(rows):
    """Creates or renames the levels, sub-categories and themes named in ``rows``."""
    levels = {}
    for row in rows:
        if row["level"] not in levels:
            levels[row["level"]], _ = Level.objects.update_or_create(
                number=row["level"], defaults={"title": row["level_title"]}
            )
    subcategories = {}
    for row in rows:
        if row["subcategory"] not in subcategories:
            subcategories[row["subcategory"]], _ = Subcategory.objects.update_or_create(
                code=row["subcategory"],
                defaults={"title": row["subcategory_title"], "level": levels[row["level"]]},
            )
    themes = {}
    for row in rows:
        if row["theme_code"] and row["theme_code"] not in themes:
            themes[row["theme_code"]], _ = Theme.objects.update_or_create(
                code=row["theme_code"], defaults={"title": row["theme_title"]}
            )
    return subcategories, themes


def _apply_services(rows, subcategories, themes):
    """Upserts the services of ``rows`` and deactivates the others; returns the counts."""
    existing = {service.code: service for service in Service.objects.select_for_update()}
    to_create, to_update = [], []
    for row in rows:
        values = {
            "title": row["title"],
            "subcategory": subcategories[row["subcategory"]],
            "theme": themes.get(row["theme_code"]),
            "is_active": True,
        }
        service = existing.get(row["code"])
        if service is None:
            to_create.append(Service(code=row["code"], **values))
            continue
        changed = (
            service.title != values["title"]
            or service.subcategory_id != values["subcategory"].pk
            or service.theme_id != getattr(values["theme"], "pk", None)
            or not service.is_active
        )
        if changed:
            for name, value in values.items():
                setattr(service, name, value)
            to_update.append(service)
    Service.objects.bulk_create(to_create)
    Service.objects.bulk_update(to_update, ["title", "subcategory", "theme", "is_active"])
    codes = [row["code"] for row in rows]
    deactivated = Service.objects.filter(is_active=True).exclude(code__in=codes).update(is_active=False)
    return {"created": len(to_create), "updated": len(to_update), "deactivated": deactivated}


def latest_version(*, lock=False):
    versions = ReferentialVersion.objects.order_by("-number")
    if lock:
        versions = versions.select_for_update()
    return versions.first()


def record_version(*, rows, sha256, source_name, imported_by=None, note="", stats=None):
    """Writes the next version; with the same fingerprint as the latest, returns the latest.

    Call it inside the transaction that changed the referential.
    """
    latest = latest_version(lock=True)
    if latest is not None and latest.sha256 == sha256:
        return latest
    if imported_by is not None and not getattr(imported_by, "is_authenticated", False):
        imported_by = None
    version = ReferentialVersion.objects.create(
        number=latest.number + 1 if latest is not None else 1,
        imported_by=imported_by,
        source_name=source_name[:255],
        sha256=sha256,
        row_count=len(rows),
        rows=rows,
        note=note,
    )
    record(
        "aptic.referential_imported",
        actor=imported_by,
        target=version,
        after={
            "number": version.number,
            "source_name": version.source_name,
            "sha256": sha256,
            "row_count": version.row_count,
            **(stats or {}),
        },
    )
    return version


def import_referential(file_or_text, *, source_name, imported_by=None, note=""):
    """Imports a whole referential file (CSV, columns ``COLUMNS``) and returns its version.

    The file is the complete referential: its services are created, updated or reactivated,
    the services it no longer lists are deactivated. The same file as the latest version
    changes nothing and returns that version.
    """
    content = _read_bytes(file_or_text)
    rows = parse_referential(content)
    sha256 = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        latest = latest_version(lock=True)
        if latest is not None and latest.sha256 == sha256:
            return latest
        subcategories, themes = apply_structure(rows)
        stats = _apply_services(rows, subcategories, themes)
        return record_version(
            rows=rows, sha256=sha256, source_name=source_name, imported_by=imported_by, note=note, stats=stats
        )


def ensure_referential_loaded():
    """Loads the file bundled with Passnum if no referential was ever imported (idempotent)."""
    latest = latest_version()
    if latest is not None:
        return latest
    try:
        return import_referential(
            BUNDLED_FILE, source_name=BUNDLED_SOURCE_NAME, note="Chargement initial du référentiel national."
        )
    except IntegrityError:
        # Another process loaded it at the same moment: its version is as good as ours.
        return latest_version()
