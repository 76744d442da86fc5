"""The period of a report: from one month to another (inclusive), read from ``?du=AAAA-MM&au=AAAA-MM``."""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

from passnum.errors import DomainError

MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
# The chèque APTIC started in 2015: a report never looks before it, nor past next year.
FIRST_YEAR = 2015


@dataclass(frozen=True)
class Period:
    first_month: datetime.date | None = None  # first day of the first month
    last_month: datetime.date | None = None  # first day of the last month

    @property
    def start(self):
        """First instant of the period (aware, local time), or None."""
        return _midnight(self.first_month) if self.first_month else None

    @property
    def end(self):
        """First instant after the period, or None."""
        return _midnight(_next_month(self.last_month)) if self.last_month else None

    @property
    def is_whole(self) -> bool:
        return self.first_month is None and self.last_month is None

    def as_params(self) -> dict[str, str]:
        params = {}
        if self.first_month:
            params["du"] = f"{self.first_month:%Y-%m}"
        if self.last_month:
            params["au"] = f"{self.last_month:%Y-%m}"
        return params

    @property
    def label(self) -> str:
        if self.is_whole:
            return "depuis le début du programme"
        if self.first_month and self.last_month:
            return f"de {self.first_month:%m/%Y} à {self.last_month:%m/%Y}"
        if self.first_month:
            return f"depuis {self.first_month:%m/%Y}"
        return f"jusqu'à {self.last_month:%m/%Y}"


def _midnight(day):
    return timezone.make_aware(datetime.datetime(day.year, day.month, 1))


def _next_month(day):
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _month(text, *, field: str, name: str, today: datetime.date):
    text = (text or "").strip()
    if not text:
        return None
    match = MONTH.match(text)
    if not match or not 1 <= int(match[2]) <= 12:
        raise DomainError(
            f"Le mois « {name} » doit s'écrire AAAA-MM, par exemple 2026-03.",
            code="invalid",
            field=field,
            fields={field: ["AAAA-MM"]},
            status=400,
        )
    year, month = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= today.year + 1:
        raise DomainError(
            f"Le mois « {name} » doit être entre {FIRST_YEAR} et {today.year + 1}.",
            code="invalid",
            field=field,
            fields={field: [f"{FIRST_YEAR}–{today.year + 1}"]},
            status=400,
        )
    return datetime.date(year, month, 1)


def check_period(*, first: str | None, last: str | None, today: datetime.date) -> Period:
    """The period asked for (both ends optional); a malformed, out-of-range or reversed period is
    refused with a French sentence (``DomainError``, code ``invalid``, status 400)."""
    first_month = _month(first, field="du", name="du", today=today)
    last_month = _month(last, field="au", name="au", today=today)
    if first_month and last_month and first_month > last_month:
        raise DomainError(
            f"La période est à l'envers : le mois de début ({first_month:%m/%Y}) est après le mois de fin "
            f"({last_month:%m/%Y}).",
            code="invalid",
            field="au",
            fields={"au": ["après « du »"]},
            status=400,
        )
    return Period(first_month=first_month, last_month=last_month)
