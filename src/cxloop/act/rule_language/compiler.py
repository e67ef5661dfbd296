"""Compile a checked syntax tree into nested closures: no ``eval`` of user text, and field
lookups, literal sets and normalised needles are all prepared once at compile time."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from cxloop.act.rule_language.fields import FieldType
from cxloop.act.rule_language.nodes import (
    And,
    Compare,
    IsNull,
    Metric,
    Node,
    Not,
    Operand,
    Or,
)
from cxloop.act.rule_language.parser import operand_type

Record = Mapping[str, Any]
Predicate = Callable[[Record], bool]
Getter = Callable[[Record], Any]

_NUM = (int, float)


@lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """NFKC then casefold, so full-width 'ＣＡＮＣＥＬ' and half-width 'ｶｲﾔｸ' match their
    ordinary forms. Cached because a record's text is tested by many rules."""
    return unicodedata.normalize("NFKC", text).casefold()


def getter(operand: Operand) -> Getter:
    """Return a function reading the operand's value from a record (``None`` when absent)."""
    if isinstance(operand, Metric):
        name = operand.name

        def get_metric(rec: Record) -> Any:
            metrics = rec.get("metrics")
            return metrics.get(name) if metrics else None

        return get_metric
    if len(operand.path) == 1:
        key = operand.path[0]
        return lambda rec: rec.get(key)
    outer, inner = operand.path

    def get_nested(rec: Record) -> Any:
        sub = rec.get(outer)
        return sub.get(inner) if sub else None

    return get_nested


def compile_node(node: Node) -> Predicate:
    if isinstance(node, And):
        return _chain([compile_node(n) for n in node.items], conjunction=True)
    if isinstance(node, Or):
        return _chain([compile_node(n) for n in node.items], conjunction=False)
    if isinstance(node, Not):
        inner = compile_node(node.item)
        return lambda rec: not inner(rec)
    if isinstance(node, IsNull):
        get = getter(node.operand)
        if node.negated:
            return lambda rec: get(rec) is not None
        return lambda rec: get(rec) is None
    return _compile_compare(node)


def _chain(parts: list[Predicate], *, conjunction: bool) -> Predicate:
    # Nested two-way closures short-circuit like Python's own and/or and avoid the generator
    # that all()/any() would need per record.
    tail = parts[-1]
    for head in reversed(parts[:-1]):
        tail = _both(head, tail) if conjunction else _either(head, tail)
    return tail


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda rec: a(rec) and b(rec)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda rec: a(rec) or b(rec)


def _compile_compare(node: Compare) -> Predicate:
    get = getter(node.operand)
    ftype = operand_type(node.operand)
    if ftype is FieldType.TEXT_LIST:
        return _list_field(node, get)
    op, value = node.op, node.value
    if op in ("contains", "contains_any"):
        needles = tuple(
            normalize_text(str(v)) for v in (value if isinstance(value, tuple) else (value,))
        )
        return _contains(get, needles)
    want = (str,) if isinstance(value if not isinstance(value, tuple) else value[0], str) else _NUM
    if op in ("in", "not_in"):
        assert isinstance(value, tuple)
        choices = frozenset(value)
        if op == "in":
            return lambda rec: isinstance(v := get(rec), want) and v in choices
        return lambda rec: isinstance(v := get(rec), want) and v not in choices
    lit = value
    if op == "=":
        return lambda rec: isinstance(v := get(rec), want) and v == lit
    if op == "!=":
        return lambda rec: isinstance(v := get(rec), want) and v != lit
    # The parser only lets numbers reach the ordering operators.
    assert isinstance(lit, int | float)
    num: float = lit
    match op:
        case "<":
            return lambda rec: isinstance(v := get(rec), _NUM) and v < num
        case "<=":
            return lambda rec: isinstance(v := get(rec), _NUM) and v <= num
        case ">":
            return lambda rec: isinstance(v := get(rec), _NUM) and v > num
        case ">=":
            return lambda rec: isinstance(v := get(rec), _NUM) and v >= num
    raise AssertionError(f"unhandled operator {op}")


def _contains(get: Getter, needles: tuple[str, ...]) -> Predicate:
    if len(needles) == 1:
        (needle,) = needles

        def contains_one(rec: Record) -> bool:
            v = get(rec)
            return isinstance(v, str) and needle in normalize_text(v)

        return contains_one

    def contains_any(rec: Record) -> bool:
        v = get(rec)
        if not isinstance(v, str):
            return False
        hay = normalize_text(v)
        return any(n in hay for n in needles)

    return contains_any


def _list_field(node: Compare, get: Getter) -> Predicate:
    # ``theme = "billing"`` means the record's theme list holds "billing"; ``in`` means it
    # holds any of the listed ids.
    value = node.value
    choices = frozenset(value) if isinstance(value, tuple) else frozenset((value,))
    positive = node.op in ("=", "in")

    def member(rec: Record) -> bool:
        items = get(rec)
        if items is None:
            return False
        if isinstance(items, str):
            items = (items,)
        hit = not choices.isdisjoint(items)
        return hit if positive else not hit

    return member
