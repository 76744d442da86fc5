"""How a report names its rows: one place per kind of label (months, weeks, communes and
departments by their names from the territories referential)."""

import datetime

from passnum.territories import selectors as territory_selectors

MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre"]  # fmt: skip


def month(day: datetime.date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def week(day: datetime.date) -> str:
    return f"semaine du {day:%d/%m/%Y}"


def communes(*, codes: list[str]) -> dict[str, str]:
    """``{"33063": "Bordeaux (33)"}``, in one query; an unknown code reads as itself."""
    return territory_selectors.commune_labels(codes=codes)


def departments(*, codes: list[str]) -> dict[str, str]:
    """``{"33": "Gironde (33)"}``, in one query; an unknown code reads as itself."""
    return territory_selectors.department_labels(codes=codes)
