"""How a report names its rows: one place per kind of label, so that richer names (communes by
name, departments by name) replace the codes here without touching the tables."""

import datetime

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]  # fmt: skip


def month(day: datetime.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def week(day: datetime.date) -> str:
    return f"semaine du {day:%d/%m/%Y}"


def commune(insee_code: str) -> str:
    """A commune by its INSEE code (its name once the communes referential is there)."""
    return f"commune {insee_code}"


def department(code: str) -> str:
    return f"département {code}"
