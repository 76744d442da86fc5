"""The eligibility rules of the business grant, one function per rule.

Each rule reads plain facts (``Facts``: what the company typed, saved or not) and returns a
``RuleResult``: passed or not, and a French sentence with the figure that decides. The draft page
shows them live (htmx), the instructing staff see them, and ``services.submit_application``
refuses a failing application with each rule's code from ``passnum.refusals``.

All arithmetic is on integers (cents, basis points, dates): no float ever decides.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from clearing.money import euros
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors
from sponsors.grants.enums import DocumentKind, ExpenditureCategory


@dataclass(frozen=True)
class RuleResult:
    rule: str
    label: str
    passed: bool
    message: str
    refusal: Refusal | None = None


@dataclass
class Facts:
    """What a rule may look at. ``lines``: ``(category, amount in cents)``; ``documents``: the
    kinds present; ``last_grant_on``: the date of the company's latest grant in the scheme."""

    headcount: int | None = None
    lines: list[tuple[str, int]] = field(default_factory=list)
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    requested_amount_cents: int | None = None
    commune_code: str = ""
    documents: set[str] = field(default_factory=set)
    last_grant_on: datetime.date | None = None
    filed_on: datetime.date | None = None  # the submission day (today for a draft)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has none: 31 → 30)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _day(value: datetime.date) -> str:
    return value.strftime("%d/%m/%Y")


def _percent(numerator: int, denominator: int) -> str:
    """« 25,01 % » to two decimals, by integer division (rounded down)."""
    hundredths = numerator * 10000 // denominator
    return f"{hundredths // 100},{hundredths % 100:02d} %"


def rule_headcount(*, scheme, facts: Facts) -> RuleResult:
    label = f"Moins de {scheme.headcount_limit} salariés"
    if facts.headcount is None:
        return RuleResult("headcount", label, False, "Indiquez l'effectif de l'entreprise.")
    if facts.headcount >= scheme.headcount_limit:
        return RuleResult(
            "headcount",
            label,
            False,
            f"L'entreprise déclare {facts.headcount} salariés : la subvention est réservée aux entreprises de "
            f"moins de {scheme.headcount_limit} salariés.",
            Refusal.GRANT_HEADCOUNT_TOO_HIGH,
        )
    return RuleResult("headcount", label, True, f"{facts.headcount} salariés : moins de {scheme.headcount_limit}.")


def rule_equipment_share(*, scheme, facts: Facts) -> RuleResult:
    cap = f"{scheme.equipment_cap_bp // 100},{scheme.equipment_cap_bp % 100:02d} %".replace(",00 %", " %")
    label = f"Matériel au plus {cap} des dépenses"
    total = sum(amount for _category, amount in facts.lines)
    if total <= 0:
        return RuleResult("equipment_share", label, False, "Ajoutez au moins une ligne de dépense au plan.")
    equipment = sum(amount for category, amount in facts.lines if category == ExpenditureCategory.EQUIPMENT)
    share = _percent(equipment, total)
    # equipment / total > cap / 10000, without division
    if equipment * 10000 > scheme.equipment_cap_bp * total:
        return RuleResult(
            "equipment_share",
            label,
            False,
            f"Le matériel représente {euros(equipment)} sur {euros(total)}, soit {share} des dépenses : {cap} au plus.",
            Refusal.GRANT_EQUIPMENT_SHARE_TOO_HIGH,
        )
    return RuleResult(
        "equipment_share", label, True, f"Matériel : {euros(equipment)} sur {euros(total)}, soit {share}."
    )


def rule_duration(*, scheme, facts: Facts) -> RuleResult:
    months = scheme.max_duration_months
    label = f"Projet de {months} mois au plus"
    if facts.start_date is None or facts.end_date is None:
        return RuleResult("duration", label, False, "Indiquez les dates de début et de fin prévues du projet.")
    if facts.end_date < facts.start_date:
        return RuleResult(
            "duration",
            label,
            False,
            f"La fin prévue ({_day(facts.end_date)}) est avant le début ({_day(facts.start_date)}).",
            Refusal.GRANT_DURATION_TOO_LONG,
        )
    latest_end = add_months(facts.start_date, months)
    if facts.end_date > latest_end:
        extra = (facts.end_date - latest_end).days
        return RuleResult(
            "duration",
            label,
            False,
            f"Du {_day(facts.start_date)} au {_day(facts.end_date)}, le projet dure {months} mois et {extra} jour"
            f"{'s' if extra > 1 else ''} : il doit finir au plus tard le {_day(latest_end)}.",
            Refusal.GRANT_DURATION_TOO_LONG,
        )
    return RuleResult(
        "duration",
        label,
        True,
        f"Du {_day(facts.start_date)} au {_day(facts.end_date)} : fin au plus tard le {_day(latest_end)}.",
    )


def rule_filed_before_start(*, scheme, facts: Facts) -> RuleResult:
    label = "Demande déposée avant le début du projet"
    if facts.start_date is None or facts.filed_on is None:
        return RuleResult("filed_before_start", label, False, "Indiquez la date de début prévue du projet.")
    if facts.filed_on >= facts.start_date:
        return RuleResult(
            "filed_before_start",
            label,
            False,
            f"Le projet commence le {_day(facts.start_date)} et la demande est déposée le {_day(facts.filed_on)} : "
            "elle doit l'être au plus tard la veille du début du projet.",
            Refusal.GRANT_PROJECT_ALREADY_STARTED,
        )
    return RuleResult(
        "filed_before_start",
        label,
        True,
        f"Dépôt le {_day(facts.filed_on)}, avant le début du projet le {_day(facts.start_date)}.",
    )


def rule_amount_range(*, scheme, facts: Facts) -> RuleResult:
    low, high = euros(scheme.min_amount_cents), euros(scheme.max_amount_cents)
    label = f"Montant demandé entre {low} et {high}"
    amount = facts.requested_amount_cents
    if amount is None:
        return RuleResult("amount_range", label, False, "Indiquez le montant demandé.")
    if not scheme.min_amount_cents <= amount <= scheme.max_amount_cents:
        return RuleResult(
            "amount_range",
            label,
            False,
            f"Le montant demandé ({euros(amount)}) doit être compris entre {low} et {high}.",
            Refusal.GRANT_AMOUNT_OUT_OF_RANGE,
        )
    return RuleResult("amount_range", label, True, f"{euros(amount)}, entre {low} et {high}.")


def rule_territory(*, scheme, facts: Facts) -> RuleResult:
    departments = territory_selectors.department_labels(codes=list(scheme.departments))
    where = ", ".join(departments[code] for code in scheme.departments)
    label = f"Siège sur le territoire : {where}"
    if not facts.commune_code:
        return RuleResult("territory", label, False, "Indiquez la commune du siège de l'entreprise (code INSEE).")
    commune = territory_selectors.commune(code=facts.commune_code)
    if commune is None:
        return RuleResult(
            "territory",
            label,
            False,
            f"Aucune commune n'a le code INSEE {facts.commune_code} (ce n'est pas le code postal).",
            Refusal.GRANT_OUT_OF_TERRITORY,
        )
    department = territory_selectors.department_of(insee_code=commune.code)
    if department not in scheme.departments:
        return RuleResult(
            "territory",
            label,
            False,
            f"Le siège est à {commune.name} ({department}) : le dispositif est réservé à {where}.",
            Refusal.GRANT_OUT_OF_TERRITORY,
        )
    return RuleResult("territory", label, True, f"Siège à {commune.name} ({department}).")


def rule_documents(*, scheme, facts: Facts) -> RuleResult:
    label = "Pièces obligatoires jointes"
    labels = dict(DocumentKind.choices)
    missing = [labels.get(kind, kind) for kind in scheme.required_documents if kind not in facts.documents]
    if missing:
        return RuleResult(
            "documents",
            label,
            False,
            f"{len(missing)} pièce{'s' if len(missing) > 1 else ''} manquante{'s' if len(missing) > 1 else ''} : "
            + ", ".join(missing)
            + ".",
            Refusal.GRANT_DOCUMENTS_MISSING,
        )
    return RuleResult("documents", label, True, f"Les {len(scheme.required_documents)} pièces demandées sont jointes.")


def rule_renewal(*, scheme, facts: Facts) -> RuleResult:
    months = scheme.renewal_after_months
    label = f"Pas d'autre subvention depuis {months} mois"
    if facts.last_grant_on is None:
        return RuleResult("renewal", label, True, "Aucune subvention n'a encore été accordée à l'entreprise.")
    allowed_from = add_months(facts.last_grant_on, months)
    filed_on = facts.filed_on or allowed_from
    if filed_on < allowed_from:
        return RuleResult(
            "renewal",
            label,
            False,
            f"Une subvention a été accordée à l'entreprise le {_day(facts.last_grant_on)} : une nouvelle demande "
            f"est possible à partir du {_day(allowed_from)}.",
            Refusal.GRANT_RENEWAL_TOO_EARLY,
        )
    return RuleResult(
        "renewal",
        label,
        True,
        f"Renouvellement : la précédente subvention date du {_day(facts.last_grant_on)}, plus de {months} mois.",
    )


RULES = (
    rule_headcount,
    rule_equipment_share,
    rule_duration,
    rule_filed_before_start,
    rule_amount_range,
    rule_territory,
    rule_documents,
    rule_renewal,
)


def evaluate(*, scheme, facts: Facts) -> list[RuleResult]:
    return [rule(scheme=scheme, facts=facts) for rule in RULES]
