"""``{% audience_labels programme %}``: the French labels of a programme's audience codes."""

from django import template

from sponsors import selectors

register = template.Library()


@register.simple_tag
def audience_labels(programme, empty="tous publics"):
    labels = selectors.audience_labels(programme=programme)
    return ", ".join(labels.values()) or empty
