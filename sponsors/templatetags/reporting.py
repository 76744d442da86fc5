"""Cells of the sponsors' reports: a figure, or « < 5 » / « masqué » when its row is suppressed."""

from django import template

from sponsors.reporting.suppression import display
from sponsors.templatetags.money import euros

register = template.Library()


@register.filter
def shown(row, field="count"):
    """The ``field`` of a report row, unless the row's count is hidden."""
    value = row.get(field, 0)
    if row.get("hidden"):
        return display(value, row["hidden"])
    return value


@register.filter
def shown_euros(row, field="cents"):
    if row.get("hidden"):
        return display(row.get(field, 0), row["hidden"])
    return euros(row.get(field, 0))
