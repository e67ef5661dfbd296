"""Employee-pulse anonymity: which groups may show results, given a minimum group size.

Groups form a tree (org units); a group's ``n`` counts the respondents of its whole
subtree. A group shows results only when ``n >= min_group``. That alone is not enough:
a visible parent minus its visible children leaves a residual group, and a residual of
1..min_group-1 people would be revealed by subtraction (the differencing attack: parent
6, child A 5 visible → child B's one answer is parent·6 − A·5). So, per visible parent,
the smallest visible children are suppressed too (complementary suppression) until the
residual is empty or at least ``min_group``; a suppressed group's descendants are
suppressed with it, or they could rebuild it. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

ABSOLUTE_MIN_GROUP = 3
Why = Literal["shown", "empty", "below_threshold", "complementary"]


@dataclass(frozen=True)
class Group:
    id: int
    parent_id: int | None
    n: int


@dataclass(frozen=True)
class Visibility:
    status: dict[int, Why]

    def shown(self, group_id: int) -> bool:
        return self.status.get(group_id) == "shown"

    @property
    def shown_ids(self) -> set[int]:
        return {g for g, s in self.status.items() if s == "shown"}


def effective_min_group(configured: int) -> int:
    """The configured minimum, never below the absolute floor of 3."""
    return max(ABSOLUTE_MIN_GROUP, int(configured))


def visible_groups(groups: Sequence[Group], min_group: int) -> Visibility:
    """Decide, for every group, whether its results may be shown."""
    k = effective_min_group(min_group)
    by_id = {g.id: g for g in groups}
    children: dict[int | None, list[Group]] = {}
    for g in groups:
        children.setdefault(g.parent_id if g.parent_id in by_id else None, []).append(g)
    status: dict[int, Why] = {}
    for g in groups:
        if g.n <= 0:
            status[g.id] = "empty"
        elif g.n < k:
            status[g.id] = "below_threshold"
        else:
            status[g.id] = "shown"

    def hide_subtree(root: Group) -> None:
        stack = [root]
        while stack:
            node = stack.pop()
            if status[node.id] == "shown":
                status[node.id] = "complementary"
            stack.extend(children.get(node.id, []))

    # Top-down, so a parent's suppression is settled before its children are examined.
    order: list[Group] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(children.get(node.id, [])))
    for top in order:
        if status[top.id] != "shown":
            continue
        kids = children.get(top.id, [])
        while True:
            visible = [c for c in kids if status[c.id] == "shown"]
            residual = top.n - sum(c.n for c in visible)
            if residual <= 0 or residual >= k or not visible:
                break
            hide_subtree(min(visible, key=lambda c: (c.n, c.id)))
    return Visibility(status)


def subtree_counts(units: Sequence[tuple[int, int | None]], direct: dict[int, int]) -> list[Group]:
    """Groups with subtree totals, from (unit, parent) pairs and direct respondent counts."""
    parent_of = dict(units)
    totals = {u: 0 for u, _ in units}
    for unit, count in direct.items():
        node: int | None = unit
        while node is not None and node in totals:
            totals[node] += count
            node = parent_of.get(node)
    return [Group(u, p, totals[u]) for u, p in units]
