"""Small-count suppression of the sponsors' reports: no one reads a count below 5, even by subtraction.

The rule (DESIGN §10, documented in docs/architecture.md « Rapports ») :

1. **Primary suppression.** A count of people, hand-overs or redemptions from 1 to 4 — a cell or a
   total — is shown as « < 5 » (``SMALL``). Zero is shown: it says nothing about a person.
2. **Secondary suppression.** A table is a set of values and of *sums* (a total and its parts: a
   list and its total, a site and its places, a level, its sub-categories and their services, the
   rows and the columns of a cross table). A suppressed value must not be computable from the
   values shown through these sums. While one is, the smallest value shown next to it in one of
   its sums is suppressed too (shown « masqué », ``MASKED``): a part first, the smallest above
   zero (a zero beside a « < 5 » would give it away through its bounds), then the total, then a
   zero. Every round suppresses one more value, so the rule always ends.

Whether a suppressed value is computable is decided exactly, by linear algebra over the sums:
propagation (a sum with one unknown gives it) decides it alone when the sums form a hierarchy
(each value is a part of at most one sum); otherwise (cross tables) the sums are reduced to row
echelon form with exact fractions and a value is computable when a row of that form names it
alone. ``tests/sponsors/test_suppression.py`` checks, with random tables (hypothesis) and an
independent rank computation, that no suppressed value can be recomputed.

Hidden values are hidden with every figure of their row (passes, amounts): those follow the same
sums, so they are protected the same way.
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from fractions import Fraction

THRESHOLD = 5
SMALL = "< 5"
MASKED = "masqué"

PRIMARY = "primary"
SECONDARY = "secondary"


@dataclass(frozen=True)
class Sum:
    """``total`` = the sum of ``parts`` (keys of the values)."""

    total: Hashable
    parts: tuple


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def suppress(*, values: dict, sums: Iterable[Sum]) -> dict:
    """``{key: PRIMARY | SECONDARY}`` for the values to hide; the others are shown.

    ``values``: every value of the table (cells and totals), counts ≥ 0; ``sums``: how totals
    are made of parts. Keys absent from the result are shown as they are.
    """
    sums = [Sum(total=s.total, parts=tuple(s.parts)) for s in sums]
    for s in sums:
        for key in (s.total, *s.parts):
            if key not in values:
                raise ValueError(f"{key!r} is in a sum but has no value")
    hidden = {key: PRIMARY for key, value in values.items() if is_small(value)}
    if not hidden:
        return hidden
    hierarchical = _is_hierarchy(sums)
    while True:
        exposed = _computable(sums, set(hidden), hierarchical=hierarchical)
        if not exposed:
            return hidden
        # Each exposed value (in a stable order) gets a companion, unless one given this round
        # already shares a sum with it: the next round decides whether that was enough.
        touched = set()
        for key in sorted(exposed, key=_order_key):
            mine = {i for i, s in enumerate(sums) if key == s.total or key in s.parts}
            if mine & touched:
                continue
            companion = _companion(key, values, sums, hidden)
            hidden[companion] = SECONDARY
            touched |= mine | {i for i, s in enumerate(sums) if companion == s.total or companion in s.parts}


def _order_key(key):
    return repr(key)


def _companion(key, values: dict, sums: list[Sum], hidden: dict):
    """The value to hide next to ``key``: the smallest shown part above zero of one of its sums,
    else the smallest shown total, else a shown zero, else (never in practice) any shown value."""
    mine = [s for s in sums if key == s.total or key in s.parts]
    parts = {p for s in mine for p in s.parts if p not in hidden and p != key}
    totals = {s.total for s in mine if s.total not in hidden and s.total != key}
    for pool in (
        [p for p in parts if values[p] > 0],
        [t for t in totals if values[t] > 0],
        list(parts | totals),
        [k for k in values if k not in hidden and k != key],
    ):
        if pool:
            return min(pool, key=lambda k: (values[k], _order_key(k)))
    raise ValueError("nothing left to hide")  # unreachable: an all-hidden table exposes nothing


def _is_hierarchy(sums: list[Sum]) -> bool:
    """Each value a part of at most one sum and the total of at most one, without cycles."""
    parent, totals = {}, set()
    for s in sums:
        if s.total in totals:
            return False
        totals.add(s.total)
        for part in s.parts:
            if part in parent or part == s.total:
                return False
            parent[part] = s.total
    for start in parent:  # no cycle: walking up from any value ends
        seen, key = set(), start
        while key in parent:
            if key in seen:
                return False
            seen.add(key)
            key = parent[key]
    return True


def _computable(sums: list[Sum], unknown: set, *, hierarchical: bool) -> set:
    """The unknown values that the shown values and the sums determine."""
    found = _propagate(sums, unknown)
    if hierarchical or found:
        # In a hierarchy propagation finds all of them; elsewhere, what it finds is enough to act on.
        return found
    return _by_elimination(sums, unknown)


def _propagate(sums: list[Sum], unknown: set) -> set:
    remaining, found = set(unknown), set()
    changed = True
    while changed:
        changed = False
        for s in sums:
            missing = [k for k in (s.total, *s.parts) if k in remaining]
            if len(missing) == 1:
                remaining.discard(missing[0])
                found.add(missing[0])
                changed = True
    return found & unknown


def _by_elimination(sums: list[Sum], unknown: set) -> set:
    """Gauss–Jordan elimination, exact, on the sums restricted to the unknown values: an unknown
    is determined when a row of the reduced form has it as its only non-zero entry."""
    columns = sorted(unknown, key=_order_key)
    index = {key: i for i, key in enumerate(columns)}
    rows = []
    for s in sums:
        row = {}
        if s.total in index:
            row[index[s.total]] = Fraction(1)
        for part in s.parts:
            if part in index:
                row[index[part]] = row.get(index[part], Fraction(0)) - 1
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    pivots = []  # reduced rows, each {column: coefficient} with its pivot
    for row in rows:
        for pivot_col, pivot_row in pivots:
            if pivot_col in row:
                factor = row[pivot_col]
                for c, v in pivot_row.items():
                    row[c] = row.get(c, Fraction(0)) - factor * v
                row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        col = min(row)
        lead = row[col]
        row = {c: v / lead for c, v in row.items()}
        for i, (other_col, other_row) in enumerate(pivots):
            if col in other_row:
                factor = other_row[col]
                for c, v in row.items():
                    other_row[c] = other_row.get(c, Fraction(0)) - factor * v
                pivots[i] = (other_col, {c: v for c, v in other_row.items() if v})
        pivots.append((col, row))
    return {columns[col] for col, row in pivots if len(row) == 1}


# --- Tables as the reports show them -------------------------------------------------------------


def suppress_list(*, rows: list[dict], count: str = "count", total_key="total") -> tuple[list[dict], dict]:
    """A list and its total: ``rows`` (dicts with a ``count``), the total computed from them.
    Returns the rows and the total row, each with ``hidden`` (None, ``PRIMARY`` or ``SECONDARY``)."""
    values = {i: row[count] for i, row in enumerate(rows)}
    values[total_key] = sum(values.values())
    hidden = suppress(values=values, sums=[Sum(total=total_key, parts=tuple(range(len(rows))))])
    shown = [{**row, "hidden": hidden.get(i)} for i, row in enumerate(rows)]
    return shown, {count: values[total_key], "hidden": hidden.get(total_key)}


def suppress_tree(*, nodes: list[dict], count: str = "count") -> tuple[list[dict], dict]:
    """A hierarchy and its grand total: ``nodes`` are dicts with a ``count`` and, for groups,
    ``children`` (nodes whose counts add up to the group's). Returns the nodes (same shape) and
    the total row, each with ``hidden``."""
    values, sums = {}, []

    def walk(level, path):
        keys = []
        for i, node in enumerate(level):
            key = (*path, i)
            values[key] = node[count]
            keys.append(key)
            if node.get("children"):
                sums.append(Sum(total=key, parts=tuple(walk(node["children"], key))))
        return keys

    top = walk(nodes, ())
    values["total"] = sum(values[k] for k in top)
    sums.append(Sum(total="total", parts=tuple(top)))
    hidden = suppress(values=values, sums=sums)

    def mark(level, path):
        marked = []
        for i, node in enumerate(level):
            key = (*path, i)
            node = {**node, "hidden": hidden.get(key)}
            if node.get("children"):
                node["children"] = mark(node["children"], key)
            marked.append(node)
        return marked

    return mark(nodes, ()), {count: values["total"], "hidden": hidden.get("total")}


def display(count: int, hidden: str | None):
    """What a cell shows: the count, « < 5 » or « masqué »."""
    if hidden == PRIMARY:
        return SMALL
    if hidden == SECONDARY:
        return MASKED
    return count
