"""Static facts about a condition: which fields it needs, which record kinds it can match,
and whether a rule's own actions could feed it again (the loop guard)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cxloop.act.rule_language.fields import (
    FIELDS,
    METRIC_KINDS,
    NESTED,
    RECORD_KINDS,
    FieldType,
)
from cxloop.act.rule_language.nodes import And, Compare, Field, IsNull, Metric, Node, Not, Or

# Scalar text fields whose exact value can index rules (lists and free-form fields cannot:
# a list holds many values and a free-form value may be unhashable).
_ANCHOR_FIELDS = frozenset(
    name for name, (ftype, _) in FIELDS.items() if ftype is FieldType.TEXT and name != "kind"
)


def required_keys(node: Node) -> frozenset[str]:
    """Field keys that must hold a value on any record the condition matches.

    Every comparison is false on a missing value, so a comparison requires its field; ``and``
    requires the union, ``or`` the intersection, and ``not`` nothing (conservatively).
    """
    if isinstance(node, Compare):
        return frozenset((node.operand.key,))
    if isinstance(node, IsNull):
        return frozenset((node.operand.key,)) if node.negated else frozenset()
    if isinstance(node, And):
        return frozenset().union(*(required_keys(n) for n in node.items))
    if isinstance(node, Or):
        return frozenset.intersection(*(required_keys(n) for n in node.items))
    return frozenset()


def required_values(node: Node) -> dict[str, frozenset[str]]:
    """For scalar text fields the condition pins down, the values a match must have.

    ``touchpoint = "web" and nps <= 6`` gives ``{"touchpoint": {"web"}}``; an ``or`` keeps a
    field only when every branch pins it, joining the values.
    """
    if isinstance(node, Compare):
        key = node.operand.key
        if key in _ANCHOR_FIELDS and node.op in ("=", "in"):
            values = node.value if isinstance(node.value, tuple) else (node.value,)
            return {key: frozenset(str(v) for v in values)}
        return {}
    if isinstance(node, And):
        merged: dict[str, frozenset[str]] = {}
        for part in map(required_values, node.items):
            for key, pinned in part.items():
                merged[key] = merged[key] & pinned if key in merged else pinned
        return merged
    if isinstance(node, Or):
        parts = [required_values(n) for n in node.items]
        shared = set(parts[0]).intersection(*parts[1:])
        return {key: frozenset().union(*(p[key] for p in parts)) for key in shared}
    return {}


def _schema_kinds(operand: Field | Metric) -> frozenset[str]:
    if isinstance(operand, Metric):
        return METRIC_KINDS
    head = operand.path[0]
    return RECORD_KINDS if head in NESTED else FIELDS[head][1]


def _any_kinds(_: Field | Metric) -> frozenset[str]:
    return RECORD_KINDS


def possible_kinds(node: Node, *, use_schema: bool) -> frozenset[str]:
    """Record kinds for which the condition can be true.

    With ``use_schema`` the documented field-to-kind contract counts too (``nps`` only on
    responses); without it only explicit ``kind`` tests count, which is what matching uses so
    that a record outside the contract is still evaluated exactly.
    """
    kinds_of = _schema_kinds if use_schema else _any_kinds
    return _may(node, kinds_of)[0]


def _may(
    node: Node, kinds_of: Callable[[Field | Metric], frozenset[str]]
) -> tuple[frozenset[str], frozenset[str]]:
    """(kinds where the node may be true, kinds where it may be false)."""
    everything = RECORD_KINDS
    if isinstance(node, Compare):
        operand = node.operand
        if (
            isinstance(operand, Field)
            and operand.key == "kind"
            and node.op in ("=", "!=", "in", "not_in")
        ):
            listed = frozenset(
                str(v) for v in (node.value if isinstance(node.value, tuple) else (node.value,))
            )
            hit = listed & everything
            if node.op in ("=", "in"):
                return hit, everything - hit
            return everything - hit, hit
        return kinds_of(operand), everything
    if isinstance(node, IsNull):
        present = kinds_of(node.operand)
        return (present, everything) if node.negated else (everything, present)
    if isinstance(node, Not):
        true, false = _may(node.item, kinds_of)
        return false, true
    parts = [_may(n, kinds_of) for n in node.items]
    trues = [p[0] for p in parts]
    falses = [p[1] for p in parts]
    if isinstance(node, And):
        return frozenset.intersection(*trues), frozenset().union(*falses)
    return frozenset().union(*trues), frozenset.intersection(*falses)


def loop_kinds(node: Node, action_output_kinds: Iterable[str]) -> frozenset[str]:
    """The action output kinds that this condition could match again."""
    outputs = frozenset(action_output_kinds)
    unknown = outputs - RECORD_KINDS
    if unknown:
        raise ValueError(
            f"unknown record kind(s) {sorted(unknown)}; expected some of {sorted(RECORD_KINDS)}"
        )
    return possible_kinds(node, use_schema=True) & outputs
