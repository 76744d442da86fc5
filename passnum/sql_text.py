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
    """Any value as its text (a UUID, a number)."""
    return Func(F(field), template="(%(expressions)s)::text", output_field=CharField())
