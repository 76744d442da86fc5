"""Money is integer euro cents everywhere; this is how an amount is written for a person."""


def euros(cents: int) -> str:
    """« 77,00 € », « 1 234,50 € », « -12,00 € » from cents (adjustments may be negative); the
    thousands are separated by a narrow no-break space, as French typography has it."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    thousands = f"{whole:,}".replace(",", "\u202f")
    return f"{sign}{thousands},{rest:02d} €"
