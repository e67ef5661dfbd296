"""Evaluate many compiled rules against a record, running only the rules that can match."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cxloop.act.rule_language.analysis import (
    loop_kinds,
    possible_kinds,
    required_keys,
    required_values,
)
from cxloop.act.rule_language.compiler import Getter, Predicate, Record, compile_node, getter
from cxloop.act.rule_language.errors import RuleSyntaxError
from cxloop.act.rule_language.fields import RECORD_KINDS
from cxloop.act.rule_language.nodes import Field, Metric, Node
from cxloop.act.rule_language.parser import parse


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed, type-checked and compiled rule condition; call it with a record."""

    source: str
    ast: Node
    predicate: Predicate
    required: frozenset[str]  # field keys that must hold a value for a match
    pinned: dict[str, frozenset[str]]  # scalar text fields a match must hold one of these in

    def __call__(self, record: Record) -> bool:
        return self.predicate(record)


def compile_condition(source: str) -> Condition:
    """Parse, check and compile ``source``; raise :class:`RuleSyntaxError` when it is invalid."""
    ast = parse(source)
    return Condition(source, ast, compile_node(ast), required_keys(ast), required_values(ast))


def would_loop(rule: str | Condition, action_output_kinds: Iterable[str]) -> bool:
    """True when a record produced by the rule's actions (of one of ``action_output_kinds``)
    could match the rule again, e.g. a re-survey response feeding ``nps <= 6``."""
    condition = compile_condition(rule) if isinstance(rule, str) else rule
    return bool(loop_kinds(condition.ast, action_output_kinds))


# Which required field to gate a rule on: the one that is absent from most records, so the
# gate skips the rule as often as possible. Lower is rarer.
_GATE_RANK = {
    "dxs": 1, "signals": 1, "nps": 2, "csat": 2, "ces": 2, "rating": 3, "rating_scale": 3,
    "segment": 4, "attributes": 4, "sentiment": 5, "sentiment_score": 5, "theme": 5,
    "text": 6, "language": 6,
}  # fmt: skip


def _gate_rank(key: str) -> int:
    if key.startswith("metric:"):
        return 0
    return _GATE_RANK.get(key.split(".", 1)[0], 7)


_Entry = tuple[int, str, Predicate]
_Group = tuple[Getter | None, tuple[_Entry, ...]]
_Anchor = tuple[Getter, dict[str, tuple[_Entry, ...]]]
_Plan = tuple[tuple[_Anchor, ...], tuple[_Group, ...]]


class RuleSet:
    """A fixed set of rules indexed by record kind and by one field each rule needs.

    ``rules`` maps rule id to condition text (or a compiled :class:`Condition`); ids keep their
    given order in :meth:`matches`.
    """

    def __init__(
        self, rules: Mapping[str, str | Condition] | Iterable[tuple[str, str | Condition]]
    ):
        items = list(rules.items()) if isinstance(rules, Mapping) else list(rules)
        self.conditions: dict[str, Condition] = {}
        for rule_id, rule in items:
            if rule_id in self.conditions:
                raise ValueError(f"duplicate rule id {rule_id!r}")
            try:
                cond = compile_condition(rule) if isinstance(rule, str) else rule
            except RuleSyntaxError as exc:
                raise exc.with_rule_id(rule_id) from None
            self.conditions[rule_id] = cond
        self._all: tuple[_Entry, ...] = tuple(
            (i, rid, c.predicate) for i, (rid, c) in enumerate(self.conditions.items())
        )
        self._plans: dict[str, _Plan] = {kind: self._plan(kind) for kind in RECORD_KINDS}

    def _plan(self, kind: str) -> _Plan:
        # A rule that pins a text field to literal values (``touchpoint = "web"``) is filed
        # under each value, so a record only looks up its own value; otherwise the rule is
        # gated on the rarest field it needs, and skipped when the record lacks that field.
        anchors: dict[str, dict[str, list[_Entry]]] = defaultdict(lambda: defaultdict(list))
        groups: dict[str | None, list[_Entry]] = defaultdict(list)
        for entry in self._all:
            cond = self.conditions[entry[1]]
            if kind not in possible_kinds(cond.ast, use_schema=False):
                continue
            if cond.pinned:
                key = min(cond.pinned, key=lambda k: (len(cond.pinned[k]), k))
                for value in cond.pinned[key]:
                    anchors[key][value].append(entry)
                continue
            gates = sorted(cond.required - {"kind"}, key=lambda k: (_gate_rank(k), k))
            groups[gates[0] if gates else None].append(entry)
        return (
            tuple(
                (getter(_operand_for(key)), {v: tuple(e) for v, e in by_value.items()})
                for key, by_value in anchors.items()
            ),
            tuple(
                (getter(_operand_for(g)) if g is not None else None, tuple(entries))
                for g, entries in groups.items()
            ),
        )

    def __len__(self) -> int:
        return len(self.conditions)

    def matches(self, record: Record) -> list[str]:
        """Ids of the rules whose condition holds for ``record``, in rule order."""
        plan = self._plans.get(record.get("kind"))  # type: ignore[arg-type]
        if plan is None:  # unknown kind: no index applies, evaluate everything exactly
            return [rid for _, rid, pred in self._all if pred(record)]
        anchors, groups = plan
        hits: list[tuple[int, str]] = []
        for get, by_value in anchors:
            value = get(record)
            if isinstance(value, str) and (entries := by_value.get(value)):
                for order, rule_id, pred in entries:
                    if pred(record):
                        hits.append((order, rule_id))
        for gate, entries in groups:
            if gate is not None and gate(record) is None:
                continue
            for order, rule_id, pred in entries:
                if pred(record):
                    hits.append((order, rule_id))
        if len(hits) > 1:
            hits.sort()
        return [rid for _, rid in hits]


def _operand_for(key: str) -> Field | Metric:
    if key.startswith("metric:"):
        return Metric(key.removeprefix("metric:"), 0)
    return Field(tuple(key.split(".")), 0)
