"""Money is integer euro cents everywhere; this is how an amount is written for a person."""


def euros(cents: int) -> str:
    """« 77,00 € » from 7700 cents (« -5,00 € » from -500)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100},{cents % 100:02d} €"
