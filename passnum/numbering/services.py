"""Gapless document numbers (FAC-2026-000123): one counter row per series and year (and per
organisation for a series of its own, such as a sponsor's orders, CMD-2026-0001), locked in the
transaction of the document it numbers. A rolled-back document gives its number back."""

from django.db import connection, transaction

from passnum.numbering.models import PER_ORGANISATION, DocumentCounter, Series

SEQUENCE_DIGITS = 6
# A sponsor's orders are a few a year: four digits read better (a 10 000th order gets five).
SEQUENCE_DIGITS_OF = {Series.CMD: 4}


def format_number(*, series: str, year: int, sequence: int) -> str:
    return f"{series}-{year}-{sequence:0{SEQUENCE_DIGITS_OF.get(series, SEQUENCE_DIGITS)}d}"


def sequence_of(number: str) -> int:
    """The rank in its year of a number such as ``REL-2026-000123`` (123)."""
    return int(number.rsplit("-", 1)[1])


def next_number(*, series: str, year: int, organisation=None) -> str:
    """The next number of ``series`` for ``year``, e.g. ``REL-2026-000123``; for a series of
    each organisation's own (``PER_ORGANISATION``), the next of ``organisation``'s, e.g. a
    sponsor's ``CMD-2026-0001``.

    Must run inside the transaction that writes the document: the counter row stays locked until
    that transaction ends, so the next document waits, and a rollback gives the number back.
    """
    if series not in Series.values:
        raise ValueError(f"Série de numérotation inconnue : {series!r}")
    if (series in PER_ORGANISATION) != (organisation is not None):
        raise ValueError(
            f"La série {series} se numérote {'par' if series in PER_ORGANISATION else 'sans'} organisation."
        )
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "next_number() doit être appelé dans la transaction du document qu'il numérote."
        )
    # First number of the year: two first callers at once must neither fail nor duplicate the
    # row. INSERT … ON CONFLICT DO NOTHING waits for the other insert and then does nothing.
    DocumentCounter.objects.bulk_create(
        [DocumentCounter(series=series, year=year, organisation=organisation, last_number=0)], ignore_conflicts=True
    )
    counter = DocumentCounter.objects.select_for_update().get(series=series, year=year, organisation=organisation)
    counter.last_number += 1  # read under the lock: no one else can move it meanwhile
    counter.save(update_fields=["last_number"])
    return format_number(series=series, year=year, sequence=counter.last_number)
