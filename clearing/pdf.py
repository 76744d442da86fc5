"""PDF of a statement (WeasyPrint). The stylesheet and the font configuration are parsed once per
worker process and reused for every statement of a batch."""

import functools

from django.conf import settings
from django.template.loader import render_to_string

from clearing import selectors

STYLESHEET = """
@page { size: A4; margin: 18mm;
  @bottom-center { content: string(number) " — page " counter(page) " / " counter(pages);
    font-size: 8pt; color: #555; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #1a1a1a; }
h1 { font-size: 18pt; color: #00563f; margin: 0 0 6mm 0; string-set: number content(); }
.parties { display: flex; justify-content: space-between; margin-bottom: 8mm; }
.parties div { width: 48%; }
table { width: 100%; border-collapse: collapse; margin-top: 6mm; }
th, td { border-bottom: 0.3mm solid #ccc; padding: 1.6mm; text-align: left; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
tr.subtotal td { font-weight: bold; }
tr.total td { font-weight: bold; border-top: 0.6mm solid #00563f; }
.muted { color: #555; font-size: 8.5pt; }
"""


@functools.cache
def _stylesheet():
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    return CSS(string=STYLESHEET, font_config=fonts), fonts


def render_pdf(template: str, context: dict) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, {**context, "issuer": settings.PASSNUM_OPERATOR_NAME})
    css, fonts = _stylesheet()
    return HTML(string=html).write_pdf(stylesheets=[css], font_config=fonts)


def render_statement_pdf(statement) -> bytes:
    return render_pdf(
        "clearing/statement_pdf.html",
        {
            "statement": statement,
            "groups": selectors.statement_groups(statement=statement),
            "adjustments": selectors.statement_adjustments(statement=statement),
        },
    )


def render_subscription_invoice_pdf(invoice) -> bytes:
    return render_pdf("clearing/subscription_invoice_pdf.html", {"invoice": invoice})
