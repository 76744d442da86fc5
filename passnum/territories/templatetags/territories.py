"""Names for codes in templates: ``{{ code|commune_label }}`` → « Bordeaux (33) », and
``{% territory_label departments communes %}`` for a programme's territory."""

from django import template

from passnum.territories import selectors

register = template.Library()


@register.filter
def commune_label(code):
    if not code:
        return ""
    return selectors.commune_labels(codes=[str(code)])[str(code)]


@register.simple_tag
def territory_label(departments, communes):
    return selectors.territory_label(departments=list(departments or []), communes=list(communes or []))
