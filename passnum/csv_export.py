"""The one CSV writer of the project: every cell is made safe for spreadsheets.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula (« CSV injection »): a site's name ``=HYPERLINK(…)`` in an export would run
on the accountant's computer. ``escape_cell`` puts an apostrophe before such a text (the
spreadsheet then shows it as text). A plain number (``-1.55``, ``+33 1 23 45 67 89``) is no
formula: it stays as it is, so coordinates and phone numbers keep their national format.

Used by the open-data CSV (``mediators.places.api``), the site's redemptions export and the
operator's admin exports (django-import-export, through ``SafeCSV``, the one format of
``settings.EXPORT_FORMATS``).
"""

import csv
import io
import re

from import_export.formats import base_formats

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .,]*$")


def escape_cell(value):
    """``value`` as a cell that no spreadsheet runs as a formula (non-text values unchanged)."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START) or _PLAIN_NUMBER.match(value):
        return value
    return "'" + value


class _EscapingWriter:
    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row):
        return self._writer.writerow([escape_cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class _EscapingDictWriter:
    def __init__(self, writer):
        self._writer = writer
        self.fieldnames = writer.fieldnames

    def writeheader(self):
        return self._writer.writeheader()

    def writerow(self, row):
        return self._writer.writerow({key: escape_cell(value) for key, value in row.items()})

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **options):
    """``csv.writer`` whose cells are escaped (same options)."""
    return _EscapingWriter(csv.writer(stream, **options))


def rows_as_text(rows: list, *, delimiter: str = ",", lineterminator: str = "\r\n") -> str:
    """``rows`` as CSV text, each cell escaped exactly as ``writer`` escapes it — quicker for the
    large exports (a million rows): the rows are written as they are, then the text is searched
    (a few substring searches) for a cell that starts with a formula character, quoted or not.
    Only a batch where one might be (or a negative number, or such a character after a delimiter
    inside a quoted text) is written again cell by cell."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    text = buffer.getvalue()
    if not _may_start_a_cell_with_a_formula(text, delimiter, lineterminator):
        return text
    buffer = io.StringIO()
    writer(buffer, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue()


def lines_as_text(lines: list[str], *, delimiter: str = ",", lineterminator: str = "\r\n") -> str:
    """CSV lines already written (by the database, ``passnum.sql_text``) joined into a text where
    every cell is escaped exactly as ``writer`` escapes it: the text is searched once for a cell
    starting with a formula character; only then are its lines read back and written again
    through ``writer``."""
    if not lines:
        return ""
    text = lineterminator.join(lines) + lineterminator
    if not _may_start_a_cell_with_a_formula(text, delimiter, lineterminator):
        return text
    buffer = io.StringIO()
    writer(buffer, delimiter=delimiter, lineterminator=lineterminator).writerows(
        csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    )
    return buffer.getvalue()


def _may_start_a_cell_with_a_formula(text, delimiter, lineterminator):
    line_start = lineterminator[-1:]
    if text[:1] in FORMULA_START or (text[:1] == '"' and text[1:2] in FORMULA_START):
        return True
    # Only the characters present are looked for after a delimiter or a line start; the quoted
    # forms only if the text has a quote at all (each search reads the whole batch).
    quoted = '"' in text
    for start in FORMULA_START:
        if start not in text:
            continue
        befores = (delimiter, line_start, delimiter + '"', line_start + '"') if quoted else (delimiter, line_start)
        for before in befores:
            if start in lineterminator and not before.endswith('"'):
                continue  # a cell holding a line end character is always quoted: here it ends a line
            if before + start in text:
                return True
    return False


def dict_writer(stream, fieldnames, **options):
    """``csv.DictWriter`` whose values are escaped (same options)."""
    return _EscapingDictWriter(csv.DictWriter(stream, fieldnames, **options))


def _escape_dataset(dataset):
    for _ in range(len(dataset)):  # tablib: rotate each row through, headers kept
        row = dataset.lpop()
        dataset.append([escape_cell(cell) for cell in row])


class _SafeFormat:
    """Escapes before exporting, whatever IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT says; with it
    on, django-import-export calls ``_escape_formulae``, ours too (its own one turns an empty
    cell into the text « None » and misses ``+ - @``)."""

    def _escape_formulae(self, dataset):
        _escape_dataset(dataset)

    def export_data(self, dataset, **kwargs):
        _escape_dataset(dataset)
        return super().export_data(dataset, **kwargs)


class SafeCSV(_SafeFormat, base_formats.CSV):
    """The admin's CSV export, escaped like every other CSV of the project."""
