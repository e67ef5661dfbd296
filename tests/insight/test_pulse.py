"""Pulse anonymity threshold, including small-group differencing attacks."""

import pytest

from cxloop.insight.pulse import Group, effective_min_group, subtree_counts, visible_groups


def test_threshold_is_configurable_but_never_below_three():
    assert effective_min_group(5) == 5
    assert effective_min_group(8) == 8
    assert effective_min_group(2) == 3
    assert effective_min_group(1) == 3
    v = visible_groups([Group(1, None, 3), Group(2, None, 2)], min_group=1)
    assert v.status == {1: "shown", 2: "below_threshold"}


def test_groups_below_the_threshold_are_hidden():
    v = visible_groups([Group(1, None, 5), Group(2, None, 4), Group(3, None, 0)], 5)
    assert v.status == {1: "shown", 2: "below_threshold", 3: "empty"}


def test_differencing_attack_union_six_a_five_b_one():
    # A∪B has 6, A alone 5, B alone 1: showing A would reveal B by subtraction.
    groups = subtree_counts([(10, None), (11, 10), (12, 10)], {11: 5, 12: 1})
    v = visible_groups(groups, 5)
    assert v.status == {10: "shown", 11: "complementary", 12: "below_threshold"}


def test_two_small_siblings_together_below_threshold_force_a_third_hidden():
    # Parent 12 = A 8 + B 2 + C 2: hiding B and C leaves a residual of 4 < 5, so A goes too.
    groups = subtree_counts([(1, None), (2, 1), (3, 1), (4, 1)], {2: 8, 3: 2, 4: 2})
    v = visible_groups(groups, 5)
    assert v.status[1] == "shown"
    assert v.status[2] == "complementary"


def test_residual_large_enough_keeps_siblings_visible():
    # Parent 17 = A 6 + B 6 + C 5, all shown; nothing to derive.
    groups = subtree_counts([(1, None), (2, 1), (3, 1), (4, 1)], {2: 6, 3: 6, 4: 5})
    assert visible_groups(groups, 5).shown_ids == {1, 2, 3, 4}
    # Parent 20 = A 6 + B 6 + C 2 + D 6 (direct): residual C+D = 8 ≥ 5, fine.
    groups = subtree_counts([(1, None), (2, 1), (3, 1), (4, 1)], {1: 6, 2: 6, 3: 6, 4: 2})
    v = visible_groups(groups, 5)
    assert v.status == {1: "shown", 2: "shown", 3: "shown", 4: "below_threshold"}


def test_direct_members_of_a_parent_count_as_a_hidden_group():
    # Region has 1 person of its own plus store A with 6: showing A would reveal the 1.
    groups = subtree_counts([(1, None), (2, 1)], {1: 1, 2: 6})
    v = visible_groups(groups, 5)
    assert v.status == {1: "shown", 2: "complementary"}


def test_a_hidden_group_is_not_rebuilt_from_its_children():
    # Region R (7) = S (6) + T (1); S = team X (6). Hiding S is useless if X still shows.
    units = [(1, None), (2, 1), (3, 1), (4, 2)]
    v = visible_groups(subtree_counts(units, {3: 1, 4: 6}), 5)
    assert v.status[2] == "complementary"
    assert v.status[4] == "complementary"


def _derivable_small_groups(groups, shown, k):
    """Brute force: every leaf set whose total can be written as a ± combination of
    shown cells along the tree (parent minus shown children) and is 1..k-1."""
    by = {g.id: g for g in groups}
    kids = {}
    for g in groups:
        kids.setdefault(g.parent_id, []).append(g)
    found = []
    for p in groups:
        if p.id not in shown:
            continue
        residual = p.n - sum(c.n for c in kids.get(p.id, []) if c.id in shown)
        if 0 < residual < k:
            found.append((p.id, residual))
    return found, by


@pytest.mark.parametrize("seed", range(30))
def test_random_trees_never_leave_a_small_residual(seed):
    import random

    rng = random.Random(seed)
    units = [(1, None)]
    for uid in range(2, 14):
        units.append((uid, rng.choice([u for u, _ in units])))
    direct = {u: rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 9]) for u, _ in units}
    groups = subtree_counts(units, direct)
    v = visible_groups(groups, 5)
    shown = v.shown_ids
    assert all(g.n >= 5 for g in groups if g.id in shown)
    found, _ = _derivable_small_groups(groups, shown, 5)
    assert found == []
    # A shown group never sits below a hidden one (it could rebuild the hidden parent).
    parent = dict(units)
    for g in shown:
        node = parent[g]
        while node is not None:
            assert v.status[node] != "complementary"
            node = parent[node]
