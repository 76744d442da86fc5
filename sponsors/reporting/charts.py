"""What the report's charts draw (Chart.js, ``static/js/report-charts.js``): the figures of its
tables, never more. A chart is an extra beside its table (the table stays the way to read every
number, the canvas points to it); a suppressed row (« < 5 », « masqué ») is drawn as missing
(``None``, a gap): its value never leaves the server."""

from sponsors.reporting.suppression import display

# (key of the chart, table of the report, id of the table's caption, title, kind, figure, unit)
CHARTS = [
    ("month", "by_month", "report-month", "Encaissements par mois", "bar", "count", "Encaissements"),
    ("week", "by_week", "report-week", "Encaissements par semaine", "line", "count", "Encaissements"),
    ("level", "by_service", "report-service", "Encaissements par niveau du référentiel", "bar", "count",
     "Encaissements"),
    ("site", "by_place", "report-place", "Encaissements par structure", "bar", "count", "Encaissements"),
    ("pace", "by_prescriber", "report-prescriber", "Rythme des remises par prescripteur (carnets remis par mois)",
     "bar", "per_month", "Carnets remis par mois"),
    ("passes", "pass_states", "report-passes", "Pass par état", "bar", "passes", "Pass"),
]  # fmt: skip


def charts_of(*, report: dict) -> dict[str, dict]:
    """``{key: {"id", "table", "title", "type", "unit", "labels", "values", "missing"}}`` for the
    charts with at least one row; ``values[i]`` is None where the table shows « < 5 » or « masqué »."""
    charts = {}
    for key, table, caption_id, title, kind, figure, unit in CHARTS:
        rows = report[table]["rows"]
        if not rows:
            continue
        charts[key] = {
            "id": f"chart-{key}",
            "table": caption_id,
            "title": title,
            "type": kind,
            "unit": unit,
            "labels": [row["label"] for row in rows],
            "values": [None if row.get("hidden") else row[figure] for row in rows],
            "missing": [display(0, row["hidden"]) for row in rows if row.get("hidden")],
        }
    return charts
