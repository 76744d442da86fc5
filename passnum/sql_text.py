"""Values written as text by PostgreSQL itself, for the large CSV exports.

Reading a million timestamps into Python objects only to write them back as text costs more than
the rest of an export; PostgreSQL writes them in the same French formats as the exports' Python
code (``sponsors.reporting.exports``): ``31/12/2026 23:59`` in the project's time zone, ``10,50``
for euros, ``oui``/``non``. PostgreSQL only: the callers fall back to the Python formatting
elsewhere (the embedded SQLite default).
"""

from django.conf import settings
from django.db.models import CharField, F, Func

_ZONE = settings.TIME_ZONE.replace("'", "")  # a setting, quoted as a literal


def local_datetime_text(field: str) -> Func:
    """``DD/MM/YYYY HH24:MI`` in the project's time zone; empty when null."""
    return Func(
        F(field),
        template=f"coalesce(to_char(timezone('{_ZONE}', %(expressions)s), 'DD/MM/YYYY HH24:MI'), '')",
        output_field=CharField(),
    )


def euros_text(field: str) -> Func:
    """Cents as euros with a decimal comma (``1050`` → ``10,50``)."""
    return Func(
        F(field),
        template="(div(%(expressions)s, 100)::text || ',' || lpad(mod(%(expressions)s, 100)::text, 2, '0'))",
        output_field=CharField(),
    )


def yes_no_text(field: str) -> Func:
    return Func(F(field), template="CASE WHEN %(expressions)s THEN 'oui' ELSE 'non' END", output_field=CharField())


def text(field: str) -> Func:
    """Any value as its text (a UUID, a number, a code), empty when null — for values that never
    need quoting in a CSV."""
    return Func(F(field), template="coalesce((%(expressions)s)::text, '')", output_field=CharField())


def csv_cell(field: str) -> Func:
    """A free text as a CSV cell (``;`` separated): quoted, its quotes doubled, when it holds a
    semicolon, a quote or a line break — exactly when Python's ``csv`` module quotes it; empty
    when null. Formulas are not escaped here: ``passnum.csv_export.lines_as_text`` does it."""
    value = "coalesce((%(expressions)s)::text, '')"  # a column: repeated, it carries no parameter
    return Func(
        F(field),
        template=f"""(CASE WHEN {value} ~ '[;"\\r\\n]' THEN '"' || replace({value}, '"', '""') || '"'"""
        f""" ELSE {value} END)""",
        output_field=CharField(),
    )


def csv_line(*cells: Func) -> Func:
    """One CSV line (without its end) from cells that are already text and never null: those of
    this module, or values whose format never needs quoting (codes, numbers, dates written here)."""
    return Func(*cells, template="concat_ws(';', %(expressions)s)", output_field=CharField())
