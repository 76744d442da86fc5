"""Print-ready PDF of booklets, fast enough for national print runs.

The way pretix renders badges in bulk: the static design (frames, texts, colours, logo, cut
marks) is laid out once per programme by WeasyPrint into a one-page PDF (cached per worker
process); the variable layer (QR codes, Code 128 barcodes, codes and serials) is drawn as plain
PDF operations with reportlab; pypdf then puts the cached design under each page as a shared
Form XObject (one copy per file, no content-stream parsing).

Layout (A4 portrait): per booklet, a cover page then one sheet of passes, 2 columns of
95 × 55 mm cards with cut marks. ``render_chunk`` needs no database: the Celery task and the
benchmark call it with plain data.
"""

import functools
import io
from dataclasses import dataclass
from datetime import date

import segno
from barcode.charsets import code128
from django.template.loader import render_to_string
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject
from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from passnum.passes.codes import grouped
from passnum.passes.codes import specimen as specimen_code

PAGE_W, PAGE_H = 210, 297  # mm
CARD_W, CARD_H = 95, 55
COLUMNS = 2
MARGIN_X = (PAGE_W - COLUMNS * CARD_W) / 2  # 10 mm
MARGIN_Y = 11
QR_SIZE = 24  # mm, quiet zone included
QR_BORDER = 2  # modules of quiet zone drawn around (the card is white anyway)
BAR_WIDTH = 0.33  # mm per module of Code 128
BAR_HEIGHT = 9
BACKGROUND_NAME = "/PassnumDesign"
SPECIMEN_TEXT = "SPÉCIMEN"
SPECIMEN_SERIAL = "SPECIMEN"


@dataclass(frozen=True)
class Design:
    """What is printed identically on every booklet of a programme."""

    key: str
    programme_name: str
    sponsor_name: str
    face_value_cents: int
    passes_per_booklet: int
    valid_until: date
    site_url: str
    territory: str = ""
    contact: str = ""
    logo_url: str = ""

    @property
    def face_value(self):
        euros, cents = divmod(self.face_value_cents, 100)
        return f"{euros} €" if not cents else f"{euros},{cents:02d} €"


def pass_url(site_url, code):
    return f"{site_url.rstrip('/')}/p/{code}"


def card_origin(index):
    """Top-left corner (mm from the page's top-left) of card ``index`` on a sheet."""
    row, column = divmod(index, COLUMNS)
    return MARGIN_X + column * CARD_W, MARGIN_Y + row * CARD_H


def _cut_marks(count):
    rows = -(-count // COLUMNS)
    xs = sorted({MARGIN_X + c * CARD_W for c in range(COLUMNS + 1)})
    ys = sorted({MARGIN_Y + r * CARD_H for r in range(rows + 1)})
    length, gap, thick = 5, 1.5, 0.2
    marks = []
    for x in xs:  # vertical marks above and below the grid
        marks.append({"x": x - thick / 2, "y": ys[0] - gap - length, "w": thick, "h": length})
        marks.append({"x": x - thick / 2, "y": ys[-1] + gap, "w": thick, "h": length})
    for y in ys:  # horizontal marks left and right of the grid
        marks.append({"x": xs[0] - gap - length, "y": y - thick / 2, "w": length, "h": thick})
        marks.append({"x": xs[-1] + gap, "y": y - thick / 2, "w": length, "h": thick})
    return marks


# --- The static design, once per programme and worker --------------------------------------


def _mm(value):
    """A CSS length, with a decimal point whatever the active language."""
    return f"{value:.2f}mm"


@functools.lru_cache(maxsize=32)
def design_pdfs(design):
    """``(cover_pdf, sheet_pdf)``: the static design of a programme, laid out by WeasyPrint."""
    from weasyprint import HTML

    cards = [{"x": _mm(x), "y": _mm(y)} for x, y in map(card_origin, range(design.passes_per_booklet))]
    marks = [{key: _mm(value) for key, value in mark.items()} for mark in _cut_marks(len(cards))]
    sheet = render_to_string(
        "passes/print/sheet.html",
        {"design": design, "cards": cards, "marks": marks, "card_w": _mm(CARD_W), "card_h": _mm(CARD_H)},
    )
    cover = render_to_string("passes/print/cover.html", {"design": design})
    return HTML(string=cover).write_pdf(), HTML(string=sheet).write_pdf()


# --- The variable layer -------------------------------------------------------------------


def _runs(row):
    """``(start, length)`` of each run of dark modules in a row of 0/1 values."""
    runs, c, n = [], 0, len(row)
    while c < n:
        if row[c]:
            start = c
            while c < n and row[c]:
                c += 1
            runs.append((start, c - start))
        else:
            c += 1
    return runs


def qr_matrix(text):
    # A fixed mask (any of the 8 is valid for every reader) saves scoring the 8 candidates.
    return segno.make(text, error="m", boost_error=False, mask=0, micro=False).matrix


def draw_qr(canvas, text, x, y, size):
    """A QR code as filled rectangles, one per horizontal run of dark modules, written as raw
    PDF operators in module units. ``x, y``: bottom-left corner in points; ``size`` includes a
    quiet zone of ``QR_BORDER`` modules."""
    matrix = qr_matrix(text)
    n = len(matrix)
    module = size / (n + 2 * QR_BORDER)
    ops = [f"q {module:.4f} 0 0 {-module:.4f} {x + QR_BORDER * module:.3f} {y + size - QR_BORDER * module:.3f} cm"]
    for r, row in enumerate(matrix):
        ops.extend(f"{c} {r} {w} 1 re" for c, w in _runs(row))
    ops.append("f Q")
    canvas.addLiteral("\n".join(ops))


def code128_modules(value):
    """The Code 128 pattern of ``value`` in code set B, a string of 0/1 modules. Pass codes and
    serials are printable ASCII, so set B encodes them all. python-barcode's own encoder switches
    to set C for digit pairs and drops a « 99 » pair (its set C table stops at 98), so that a code
    starting with 99 was printed without it: only its pattern table is used here."""
    values = [code128.START_CODES["B"], *(code128.B[char] for char in value)]
    checksum = (values[0] + sum(weight * v for weight, v in enumerate(values[1:], start=1))) % 103
    return "".join(code128.CODES[v] for v in [*values, checksum]) + code128.STOP + "11"


def draw_code128(canvas, value, x, y, *, bar_width=BAR_WIDTH * mm, bar_height=BAR_HEIGHT * mm, center_width=None):
    """A Code 128 barcode as filled rectangles; returns its width in points (quiet zones of 10
    modules included)."""
    modules = [int(bit) for bit in code128_modules(value)]
    width = (len(modules) + 20) * bar_width
    if center_width is not None:
        x += (center_width - width) / 2
    ops = [f"q {bar_width:.4f} 0 0 {bar_height:.4f} {x + 10 * bar_width:.3f} {y:.3f} cm"]
    ops.extend(f"{c} 0 {w} 1 re" for c, w in _runs(modules))
    ops.append("f Q")
    canvas.addLiteral("\n".join(ops))
    return width


def _draw_card(canvas, design, serial, position, code, index):
    left_mm, top_mm = card_origin(index)
    x0 = left_mm * mm
    y_top = (PAGE_H - top_mm) * mm  # top edge of the card, in points from the bottom
    draw_qr(canvas, pass_url(design.site_url, code), x0 + 4 * mm, y_top - 11 * mm - QR_SIZE * mm, QR_SIZE * mm)
    canvas.setFont("Courier-Bold", 12.5)
    canvas.drawString(x0 + 33 * mm, y_top - 17 * mm, grouped(code))
    canvas.setFont("Helvetica", 7)
    canvas.drawString(x0 + 33 * mm, y_top - 22.5 * mm, f"Carnet {serial} · pass {position}/{design.passes_per_booklet}")
    draw_code128(canvas, code, x0, y_top - 53 * mm, center_width=CARD_W * mm)


def _draw_cover(canvas, serial):
    canvas.setFont("Courier-Bold", 20)
    canvas.drawString(15 * mm, (PAGE_H - 15 - 244) * mm, serial)
    draw_code128(canvas, serial, 90 * mm, (PAGE_H - 15 - 248) * mm, bar_width=0.4 * mm, bar_height=14 * mm)


def specimen_booklet(design):
    """What a proof (BAT) prints: one booklet of specimen codes, never the codes of real passes."""
    return [(SPECIMEN_SERIAL, [specimen_code(n) for n in range(1, design.passes_per_booklet + 1)])]


def _draw_specimen(canvas):
    """« SPÉCIMEN » across the page, light grey under the codes (they stay readable by a scanner,
    to check the proof), so no one prints it as a booklet."""
    canvas.saveState()
    canvas.setFillGray(0.82)
    canvas.setFont("Helvetica-Bold", 96)
    canvas.translate(PAGE_W * mm / 2, PAGE_H * mm / 2)
    canvas.rotate(55)
    canvas.drawCentredString(0, -34, SPECIMEN_TEXT)
    canvas.restoreState()
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(10 * mm, 4 * mm, f"{SPECIMEN_TEXT} — bon à tirer, codes factices : ce document ne vaut rien.")


def variable_layer(design, booklets, *, specimen=False):
    """reportlab PDF of the variable data: per booklet, a cover page then a sheet of passes."""
    buffer = io.BytesIO()
    use_a85, rl_config.useA85 = rl_config.useA85, 0  # binary streams: no slow ASCII85 pass
    try:
        canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
        _draw_booklets(canvas, design, booklets, specimen=specimen)
    finally:
        rl_config.useA85 = use_a85
    return buffer.getvalue()


def _draw_booklets(canvas, design, booklets, *, specimen=False):
    title = f"Pass numérique — {design.programme_name}"
    canvas.setTitle(f"{SPECIMEN_TEXT} — {title}" if specimen else title)
    for serial, pass_codes in booklets:
        if specimen:
            _draw_specimen(canvas)
        _draw_cover(canvas, serial)
        canvas.showPage()
        if specimen:
            _draw_specimen(canvas)
        for index, code in enumerate(pass_codes):
            _draw_card(canvas, design, serial, index + 1, code, index)
        canvas.showPage()
    canvas.save()


# --- Putting the design under the variable layer ----------------------------------------


def _form_xobject(writer, pdf_bytes):
    """The first page of ``pdf_bytes`` as a Form XObject added once to ``writer``."""
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data())
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = ArrayObject(page.mediabox)
    form[NameObject("/Resources")] = page["/Resources"].get_object().clone(writer)
    return writer._add_object(form)


def _with_background(writer, page, form_ref, draw_ref):
    resources = page["/Resources"].get_object() if "/Resources" in page else DictionaryObject()
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else DictionaryObject()
    xobjects[NameObject(BACKGROUND_NAME)] = form_ref
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    contents = page.get("/Contents")
    existing = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject([draw_ref, *existing])


def render_chunk(design, booklets, *, specimen=False):
    """PDF bytes of ``booklets`` (a list of ``(serial, [codes])``) with the programme's design;
    ``specimen``: a proof, « SPÉCIMEN » on every page."""
    cover_pdf, sheet_pdf = design_pdfs(design)
    writer = PdfWriter(clone_from=io.BytesIO(variable_layer(design, booklets, specimen=specimen)))
    cover_ref = _form_xobject(writer, cover_pdf)
    sheet_ref = _form_xobject(writer, sheet_pdf)
    draw = DecodedStreamObject()
    draw.set_data(f"q {BACKGROUND_NAME} Do Q\n".encode())
    draw_ref = writer._add_object(draw)
    for number, page in enumerate(writer.pages):
        _with_background(writer, page, cover_ref if number % 2 == 0 else sheet_ref, draw_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
