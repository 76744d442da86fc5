"""The files of the exports: what each kind holds and how it is written, in constant memory.

- ``source(…)`` describes one export: its columns (name and type), how many rows it has and its
  rows, read from each app's selectors (``.iterator(chunk_size=…)``: a server-side cursor on
  PostgreSQL, so a million rows never sit in memory).
- ``csv_chunks`` turns the rows into CSV bytes, a few thousand rows at a time, through
  ``passnum.csv_export`` (every cell made safe for spreadsheets): semicolons, decimal commas, a
  byte-order mark, as French spreadsheets expect. The same generator feeds a
  ``StreamingHttpResponse`` and the file of a background export.
- ``write_xlsx`` writes a workbook with xlsxwriter in ``constant_memory`` mode (each row flushed
  to disk as it is written) into a file: a ZIP cannot be streamed while it is built, so the
  workbook goes to a temporary file that is then streamed.

Kinds: the sponsor's report (the programme page's tables, small counts suppressed: see
``suppression.py``) and the operator's row-level exports of redemptions and hand-overs, without
personal data (``redemption_export_rows``, ``hand_over_export_rows`` say what they leave out).
"""

import functools
import io
import itertools
import re
import zoneinfo
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone

from beneficiaries import selectors as beneficiary_selectors
from mediators.redemption import selectors as redemption_selectors
from passnum import csv_export
from sponsors.reporting import selectors as reporting
from sponsors.reporting.models import ExportFormat, ExportKind
from sponsors.reporting.periods import Period

CHUNK_ROWS = 2000  # rows per piece sent to the browser (formatted here), per fetch of the ORM
FETCH_ROWS = 10_000  # lines (written by PostgreSQL) per piece of a large CSV
PROGRESS_ROWS = 10_000  # a background export writes its progress every so many rows

# Column types: how a value is written (CSV text, XLSX cell).
TEXT, NUMBER, DATETIME, EUROS, YES_NO, VALUE = "text", "number", "datetime", "euros", "yes_no", "value"


@dataclass
class Source:
    kind: str
    columns: list[tuple[str, str]]  # (heading, type)
    count: Callable[[], int]
    rows: Callable[[], Iterable[tuple]]
    file_stem: str
    # The same rows, in batches, each row its CSV line written by PostgreSQL (dates, amounts,
    # quotes) and read by COPY: much faster for a million rows; None: the rows are written here.
    text_batches: Callable[[], Iterable[list]] | None = None

    @property
    def header(self) -> list[str]:
        return [name for name, _ in self.columns]

    def file_name(self, file_format: str) -> str:
        return f"{self.file_stem}.{file_format}"


REDEMPTION_COLUMNS = [
    ("identifiant de l'encaissement", TEXT),
    ("encaissé le", DATETIME),
    ("n° du programme", NUMBER),
    ("programme", TEXT),
    ("SIRET de la structure", TEXT),
    ("structure", TEXT),
    ("lieu", TEXT),
    ("commune du lieu (code INSEE)", TEXT),
    ("service #APTIC", TEXT),
    ("pass", NUMBER),
    ("montant (€)", EUROS),
    ("reste à charge (€)", EUROS),
    ("annulé le", DATETIME),
    ("réglé sur un relevé le", DATETIME),
]
HAND_OVER_COLUMNS = [
    ("n° de la remise", NUMBER),
    ("remis le", DATETIME),
    ("n° du programme", NUMBER),
    ("programme", TEXT),
    ("SIRET du prescripteur", TEXT),
    ("prescripteur", TEXT),
    ("département de la personne", TEXT),
    ("tranche d'âge", TEXT),
    ("dérogation", YES_NO),
    ("annulée le", DATETIME),
]
REPORT_COLUMNS = [
    ("tableau", TEXT),
    ("niveau", NUMBER),
    ("clé", TEXT),
    ("libellé", TEXT),
    ("nombre", VALUE),
    ("pass", VALUE),
    ("montant (centimes)", VALUE),
    ("carnets en stock", VALUE),
    ("carnets en stock depuis plus de 60 jours", VALUE),
]


def source(*, kind: str, period: Period, programme=None) -> Source:
    """The export ``kind`` over ``period`` (``programme`` for the sponsor's report)."""
    window = {"start": period.start, "end": period.end}
    suffix = "-".join(period.as_params().values())
    suffix = f"-{suffix}" if suffix else ""
    if kind == ExportKind.PROGRAMME_REPORT:
        lines = functools.cache(lambda: _report_lines(programme, period))  # counted, then written
        return Source(
            kind=kind,
            columns=REPORT_COLUMNS,
            count=lambda: len(lines()),
            rows=lines,
            file_stem=f"rapport-programme-{programme.pk}{suffix}",
        )
    selector, columns, stem = {
        ExportKind.REDEMPTIONS: (redemption_selectors.redemption_export_rows, REDEMPTION_COLUMNS, "encaissements"),
        ExportKind.HAND_OVERS: (beneficiary_selectors.hand_over_export_rows, HAND_OVER_COLUMNS, "remises"),
    }.get(kind, (None, None, None))
    if selector is not None:
        rows = selector(**window)
        text_rows = selector(**window, as_text=True) if connection.vendor == "postgresql" else None
        return Source(
            kind=kind,
            columns=columns,
            count=rows.count,
            rows=lambda: rows.iterator(chunk_size=CHUNK_ROWS),
            text_batches=(lambda: _copied_batches(text_rows)) if text_rows is not None else None,
            file_stem=f"{stem}{suffix}",
        )
    raise ValueError(f"unknown export kind {kind!r}")


def _report_lines(programme, period) -> list[tuple]:
    """The programme's report as lines (one per table row, children after their group): the
    lines of the report API's CSV, small counts already replaced by « < 5 » or « masqué »."""
    from sponsors.api import CSV_FIELDS, report_as_csv_rows, report_as_dict

    report = reporting.programme_report(programme=programme, period=period)
    lines = report_as_csv_rows(report_as_dict(programme, report))
    return [tuple(line[name] for name in CSV_FIELDS) for line in lines]


# --- CSV ------------------------------------------------------------------------------------------

_ZONE = zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _csv_datetime(moment):
    if moment is None:
        return ""
    moment = moment.astimezone(_ZONE)
    return f"{moment.day:02d}/{moment.month:02d}/{moment.year} {moment.hour:02d}:{moment.minute:02d}"


def _csv_euros(cents):
    return "" if cents is None else f"{cents // 100},{cents % 100:02d}"


def _csv_yes_no(value):
    return "oui" if value else "non"


_CSV_CONVERTERS = {DATETIME: _csv_datetime, EUROS: _csv_euros, YES_NO: _csv_yes_no}


def csv_chunks(export: Source, *, on_progress: Callable[[int], None] | None = None) -> Iterator[bytes]:
    """The export as CSV, in pieces of ``CHUNK_ROWS`` rows (UTF-8 with a byte-order mark)."""
    header = io.StringIO()
    header.write("\ufeff")
    csv_export.writer(header, delimiter=";", lineterminator="\r\n").writerow(export.header)
    yield header.getvalue().encode()
    if export.text_batches is not None:  # lines written by PostgreSQL
        pieces = (
            (csv_export.lines_as_text(batch, delimiter=";", lineterminator="\r\n"), len(batch))
            for batch in export.text_batches()
        )
    else:
        rows = _formatted(export)
        pieces = (
            (csv_export.rows_as_text(batch, delimiter=";", lineterminator="\r\n"), len(batch))
            for batch in iter(lambda: list(itertools.islice(rows, CHUNK_ROWS)), [])
        )
    written = 0
    for text, count in pieces:
        yield text.encode()
        written += count
        if on_progress is not None and written % PROGRESS_ROWS == 0:
            on_progress(written)
    if on_progress is not None:
        on_progress(written)


def _copied_batches(queryset) -> Iterator[list]:
    """The lines of ``queryset`` (one text column) in batches of ``FETCH_ROWS``, read by
    ``COPY (…) TO STDOUT``: the database streams them without waiting for each fetch, and psycopg
    reads them one message (one line) at a time: constant memory."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params or None) as copy:
        batch = []
        for message in copy:
            batch.append(message)
            if len(batch) == FETCH_ROWS:
                yield _copied_lines(batch)
                batch = []
        if batch:
            yield _copied_lines(batch)


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def _copied_lines(messages) -> list[str]:
    """COPY's text format: one line per message, ended by a newline; a backslash, a tab or a line
    break inside it is written as an escape (``\\n``…), undone here — rarely needed."""
    text = b"".join(messages).decode()
    lines = text.split("\n")[:-1]
    if "\\" in text:
        lines = [_COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES.get(m.group(1), m.group(1)), line) for line in lines]
    return lines


def _formatted(export: Source) -> Iterator[list]:
    """The rows with their dates, amounts and yes/no written in French; the rest as it is."""
    converted = [(i, _CSV_CONVERTERS[kind]) for i, (_, kind) in enumerate(export.columns) if kind in _CSV_CONVERTERS]
    for row in export.rows():
        row = list(row)
        for i, convert in converted:
            row[i] = convert(row[i])
        yield row


# --- XLSX -----------------------------------------------------------------------------------------


def write_xlsx(export: Source, handle, *, on_progress: Callable[[int], None] | None = None) -> int:
    """Writes the export as a workbook into ``handle`` (a binary file); returns the rows written.

    ``constant_memory``: xlsxwriter keeps one row in memory and flushes it to a temporary file.
    No text is ever turned into a formula, a link or a number (``strings_to_*`` off), so a
    name starting with ``=`` stays text."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    sheet = workbook.add_worksheet(export.kind[:31])
    heading = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    euro_format = workbook.add_format({"num_format": "#,##0.00 €"})
    sheet.write_row(0, 0, export.header, heading)
    kinds = [kind for _, kind in export.columns]
    written = 0
    for row_index, row in enumerate(export.rows(), start=1):
        for col, (kind, value) in enumerate(zip(kinds, row, strict=True)):
            if value is None:
                continue
            if kind == DATETIME:
                sheet.write_datetime(row_index, col, timezone.localtime(value, _ZONE).replace(tzinfo=None), date_format)
            elif kind == EUROS:
                sheet.write_number(row_index, col, value / 100, euro_format)
            elif kind == YES_NO or isinstance(value, bool):
                sheet.write_string(row_index, col, _csv_yes_no(value))
            elif isinstance(value, int | float) and kind in (NUMBER, VALUE):
                sheet.write_number(row_index, col, value)
            else:
                sheet.write_string(row_index, col, str(value))
        written += 1
        if on_progress is not None and written % PROGRESS_ROWS == 0:
            on_progress(written)
    workbook.close()
    if on_progress is not None:
        on_progress(written)
    return written


CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
