"""The programme report as a PDF (WeasyPrint): the tables of the programme page and bar charts
drawn as SVG on the server (no script in a PDF). A suppressed value (« < 5 », « masqué ») has no
bar: the chart says it in words, as the table does."""

from django.template.loader import render_to_string

from sponsors.reporting import selectors as reporting
from sponsors.reporting.periods import Period
from sponsors.reporting.suppression import display

CHART_WIDTH = 170  # millimetres of the page's text width, the SVG drawn in the same units
LABEL_WIDTH = 55
BAR_HEIGHT = 5
BAR_GAP = 2
MAX_BARS = 24


def bar_chart(*, title: str, rows: list[dict], field: str = "count") -> dict:
    """Horizontal bars of ``rows`` (the report's rows): the shown values scaled to the widest;
    a suppressed row gets no bar but its « < 5 » or « masqué » written where the bar would be."""
    omitted = max(0, len(rows) - MAX_BARS)
    rows = rows[:MAX_BARS]
    shown = [row[field] for row in rows if not row.get("hidden")]
    top = max(shown, default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - 18
    bars = []
    for index, row in enumerate(rows):
        y = index * (BAR_HEIGHT + BAR_GAP)
        hidden = row.get("hidden")
        width = 0 if hidden else round(row[field] * span / top, 2)
        bars.append(
            {
                "label": str(row["label"])[:32],
                "y": y,
                "text_y": y + BAR_HEIGHT - 1,
                "width": width,
                "value": display(row[field], hidden) if hidden else row[field],
                "value_x": LABEL_WIDTH + width + 1.5,
                "hidden": bool(hidden),
            }
        )
    return {
        "title": title,
        "bars": bars,
        "height": max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP),
        "width": CHART_WIDTH,
        "label_width": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "omitted": omitted,
    }


def charts_of(report: dict) -> list[dict]:
    return [
        bar_chart(title="Encaissements par mois", rows=report["by_month"]["rows"]),
        bar_chart(title="Encaissements par niveau du référentiel #APTIC", rows=report["by_service"]["rows"]),
        bar_chart(title="Encaissements par commune du lieu", rows=report["by_place_commune"]["rows"]),
        bar_chart(title="Remises par département de la personne", rows=report["by_department"]["rows"]),
    ]


def render_programme_report(*, programme, period: Period) -> bytes:
    from weasyprint import HTML

    report = reporting.programme_report(programme=programme, period=period)
    html = render_to_string(
        "reporting/programme_report_pdf.html",
        {"programme": programme, "report": report, "charts": charts_of(report), "idle_days": reporting.IDLE_DAYS},
    )
    return HTML(string=html).write_pdf()
