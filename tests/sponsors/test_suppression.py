"""Small-count suppression: no count from 1 to 4 is shown, and no hidden value can be recomputed
from what is shown through the table's sums (rows, columns, totals, sub-totals).

The check is independent of the module's own algorithm: a hidden value ``v`` is computable exactly
when the unit vector of ``v`` lies in the row space of the sums restricted to the hidden values,
i.e. when adding that vector does not raise the rank (computed here with exact fractions)."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from sponsors.reporting.suppression import (
    MASKED,
    PRIMARY,
    SECONDARY,
    SMALL,
    Sum,
    display,
    suppress,
    suppress_list,
    suppress_tree,
)

counts = st.one_of(st.integers(0, 6), st.integers(0, 60))


def rank(matrix):
    """Rank of a list of rows, by plain Gaussian elimination on exact fractions."""
    rows = [[Fraction(x) for x in row] for row in matrix]
    found = 0
    width = len(rows[0]) if rows else 0
    for col in range(width):
        pivot = next((r for r in range(found, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[found], rows[pivot] = rows[pivot], rows[found]
        for r in range(len(rows)):
            if r != found and rows[r][col] != 0:
                factor = rows[r][col] / rows[found][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[found], strict=True)]
        found += 1
    return found


def recomputable(values, sums, hidden):
    """The hidden keys that the shown values and the sums determine."""
    unknown = sorted(hidden, key=repr)
    if not unknown:
        return set()
    column = {key: i for i, key in enumerate(unknown)}
    matrix = []
    for s in sums:
        row = [0] * len(unknown)
        if s.total in column:
            row[column[s.total]] += 1
        for part in s.parts:
            if part in column:
                row[column[part]] -= 1
        matrix.append(row)
    base = rank(matrix)
    found = set()
    for key, i in column.items():
        unit = [0] * len(unknown)
        unit[i] = 1
        if rank([*matrix, unit]) == base:
            found.add(key)
    return found


def check(values, sums):
    hidden = suppress(values=values, sums=sums)
    # Primary suppression: exactly the counts from 1 to 4.
    assert {k for k, v in hidden.items() if v == PRIMARY} == {k for k, v in values.items() if 0 < v < 5}
    assert set(hidden.values()) <= {PRIMARY, SECONDARY}
    assert recomputable(values, sums, hidden) == set(), (values, hidden)
    return hidden


@settings(max_examples=300, deadline=None)
@given(st.lists(counts, min_size=1, max_size=10))
def test_a_list_and_its_total_never_reveal_a_small_count(cells):
    values = {i: v for i, v in enumerate(cells)} | {"total": sum(cells)}
    check(values, [Sum(total="total", parts=tuple(range(len(cells))))])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(counts, min_size=1, max_size=5), min_size=1, max_size=5))
def test_groups_and_subtotals_never_reveal_a_small_count(groups):
    # Sites and their places, or levels and their sub-categories: a hierarchy of sums.
    values, sums = {}, []
    for g, children in enumerate(groups):
        for c, v in enumerate(children):
            values[(g, c)] = v
        values[g] = sum(children)
        sums.append(Sum(total=g, parts=tuple((g, c) for c in range(len(children)))))
    values["total"] = sum(values[g] for g in range(len(groups)))
    sums.append(Sum(total="total", parts=tuple(range(len(groups)))))
    check(values, sums)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda width: st.lists(st.lists(counts, min_size=width, max_size=width), min_size=1, max_size=5)
    )
)
def test_a_cross_table_with_row_and_column_totals_never_reveals_a_small_count(matrix):
    values, sums = {}, []
    rows, cols = len(matrix), len(matrix[0])
    for r in range(rows):
        for c in range(cols):
            values[(r, c)] = matrix[r][c]
    for r in range(rows):
        values[("row", r)] = sum(matrix[r])
        sums.append(Sum(total=("row", r), parts=tuple((r, c) for c in range(cols))))
    for c in range(cols):
        values[("col", c)] = sum(matrix[r][c] for r in range(rows))
        sums.append(Sum(total=("col", c), parts=tuple((r, c) for r in range(rows))))
    values["total"] = sum(map(sum, matrix))
    sums.append(Sum(total="total", parts=tuple(("row", r) for r in range(rows))))
    sums.append(Sum(total="total", parts=tuple(("col", c) for c in range(cols))))
    check(values, sums)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(counts, st.lists(counts, max_size=4)), min_size=1, max_size=6))
def test_suppress_tree_marks_the_rows_the_page_shows(tree):
    nodes = [{"count": sum(children) if children else v, "children": [{"count": c} for c in children]}
             for v, children in tree]  # fmt: skip
    marked, total = suppress_tree(nodes=nodes)
    values, sums, hidden = {}, [], {}
    for g, node in enumerate(marked):
        values[g], hidden[g] = node["count"], node["hidden"]
        if node["children"]:
            for c, child in enumerate(node["children"]):
                values[(g, c)], hidden[(g, c)] = child["count"], child["hidden"]
            sums.append(Sum(total=g, parts=tuple((g, c) for c in range(len(node["children"])))))
    values["total"], hidden["total"] = total["count"], total["hidden"]
    sums.append(Sum(total="total", parts=tuple(range(len(marked)))))
    hidden = {k for k, v in hidden.items() if v}
    assert {k for k in hidden if 0 < values[k] < 5} == {k for k, v in values.items() if 0 < v < 5}
    assert recomputable(values, sums, hidden) == set()


def test_a_small_count_hides_the_next_smallest_cell_of_its_line():
    rows, total = suppress_list(rows=[{"count": 3}, {"count": 40}, {"count": 12}, {"count": 0}])
    assert [display(r["count"], r["hidden"]) for r in rows] == [SMALL, 40, MASKED, 0]
    assert display(total["count"], total["hidden"]) == 55


def test_a_place_with_a_small_count_hides_its_site_when_the_site_has_no_other_place():
    # Site A: one place of 3 → the site's 3 is small too; site B: 7 and 20. Hiding A's figures
    # alone would leave the grand total to give A away: B's smallest place and B go too.
    nodes, total = suppress_tree(nodes=[{"count": 3, "children": [{"count": 3}]},
                                        {"count": 27, "children": [{"count": 7}, {"count": 20}]}])  # fmt: skip
    assert nodes[0]["hidden"] == PRIMARY and nodes[0]["children"][0]["hidden"] == PRIMARY
    assert nodes[1]["hidden"] == SECONDARY and total["hidden"] is None
    assert nodes[1]["children"][0]["hidden"] == SECONDARY  # else 27 = 7 + 20 would give B back


def test_nothing_small_hides_nothing():
    rows, total = suppress_list(rows=[{"count": 5}, {"count": 0}, {"count": 9}])
    assert [r["hidden"] for r in rows] == [None, None, None] and total["hidden"] is None
