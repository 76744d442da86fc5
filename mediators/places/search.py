"""Accent- and case-insensitive search of commune names, the same on PostgreSQL and SQLite.

"Saint-Etienne" finds "Saint-Étienne" and "evreux" finds "Évreux": the column and the query are
both *folded* — accented letters replaced by their plain letter, ligatures spelled out, hyphens
and apostrophes turned into spaces, lower case, one space between words. Python folds the query
(``fold``); the database folds the column with the same table, without the ``unaccent``
extension: PostgreSQL with ``TRANSLATE``, SQLite (the embedded default) with the function
``passnum_fold``, which is ``fold`` itself, registered on each new SQLite connection
(``register_sqlite_functions``, connected in ``MediatorsConfig.ready``).
"""

from django.db.models import CharField, Func, Value
from django.db.models.functions import Lower, Replace

ACCENTED = "ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝŸýÿ-'’"
PLAIN = "AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYYyy   "
LIGATURES = [("Œ", "oe"), ("œ", "oe"), ("Æ", "ae"), ("æ", "ae")]
SQLITE_FUNCTION = "passnum_fold"

_TABLE = str.maketrans(ACCENTED, PLAIN)


def fold(text):
    """The folded form of a name or a query: "Saint-Étienne" → "saint etienne"."""
    text = (text or "").translate(_TABLE)
    for ligature, letters in LIGATURES:
        text = text.replace(ligature, letters)
    return " ".join(text.lower().split())


def _sqlite_fold(text):
    return None if text is None else fold(text)


def register_sqlite_functions(sender, connection, **kwargs):
    """``connection_created`` receiver: SQLite gets ``passnum_fold`` (Python's ``fold``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_FUNCTION, 1, _sqlite_fold, deterministic=True)


class Folded(Func):
    """``Folded("commune")``: the folded form of a text column, computed by the database."""

    arity = 1
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function=SQLITE_FUNCTION, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        text = Func(
            self.source_expressions[0], Value(ACCENTED), Value(PLAIN), function="TRANSLATE", output_field=CharField()
        )
        for ligature, letters in LIGATURES:
            text = Replace(text, Value(ligature), Value(letters))
        spaced = Func(
            Lower(text), Value(r"\s+"), Value(" "), Value("g"), function="REGEXP_REPLACE", output_field=CharField()
        )
        return compiler.compile(Func(spaced, function="BTRIM", output_field=CharField()))

    def as_sql(self, compiler, connection, **extra_context):
        # Another database: case only (Passnum runs on PostgreSQL or SQLite).
        return compiler.compile(Lower(self.source_expressions[0]))


def filter_commune(queryset, field, query):
    """``queryset`` rows whose ``field`` (a commune name) contains ``query``, accents, case,
    hyphens and apostrophes aside."""
    folded = fold(query)
    if not folded:
        return queryset
    return queryset.alias(folded_commune=Folded(field)).filter(folded_commune__contains=folded)
