from django import template

register = template.Library()


@register.filter
def euros(cents):
    """1234567 → « 12 345,67 € » (integer cents, French format)."""
    if cents is None or cents == "":
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    grouped = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d}\u00a0€"


@register.filter
def percent(basis_points):
    """400 → « 4 % »; 550 → « 5,5 % »."""
    value = f"{int(basis_points) / 100:g}".replace(".", ",")
    return f"{value}\u00a0%"
