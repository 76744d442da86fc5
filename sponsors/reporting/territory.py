"""The territory of a report, read from ``?territoire=``: a department's code or a commune's
INSEE code, checked against the referential of communes (``passnum/territories``)."""

import re
from dataclasses import dataclass

from passnum.errors import DomainError
from passnum.refusals import Refusal
from passnum.territories import selectors as territory_selectors

# A department (33, 2A, 971) or a commune (33063, 2A004): the shapes the referential uses.
CODE = re.compile(r"^(\d{2,3}|2[AB]|\d{5}|2[AB]\d{3})$", re.ASCII)


@dataclass(frozen=True)
class Territory:
    code: str  # the commune's INSEE code or the department's code: the places' codes start with it
    kind: str  # "commune" or "department"
    label: str  # « Gironde (33) », « Bordeaux (33) »

    def as_params(self) -> dict[str, str]:
        return {"territoire": self.code}


def check_territory(*, code: str | None) -> Territory | None:
    """The territory asked for, or None for the whole programme; a code the referential does not
    know (a postcode, a typo) is refused in French (``Refusal.TERRITORY_UNKNOWN``, status 400)."""
    code = (code or "").strip().upper()
    if not code:
        return None
    if CODE.match(code):
        if len(code) == 5:
            commune = territory_selectors.commune(code=code)
            if commune is not None:
                return Territory(code=commune.code, kind="commune", label=f"{commune.name} ({commune.department})")
        else:
            # The departments' names are kept by the referential's reader: no query.
            label = territory_selectors.department_labels(codes=[code])[code]
            if label != code:
                return Territory(code=code, kind="department", label=label)
    raise DomainError(
        f"Le territoire « {code[:20]} » n'est ni un département ni une commune connus : indiquez le code d'un "
        "département (par exemple 33 ou 2A) ou le code INSEE d'une commune (par exemple 33063 pour Bordeaux), "
        "pas un code postal.",
        code=Refusal.TERRITORY_UNKNOWN,
        field="territoire",
        fields={"territoire": ["département ou commune (code INSEE)"]},
    )
