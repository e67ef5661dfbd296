"""Alert rules: validate, store, evaluate records as they arrive, and dry-run on history."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.orm import Session

from cxloop.act import actions as act_actions
from cxloop.act.hooks import Firing, RuleRecord, SurveyRequest, request_survey
from cxloop.act.rule_language import (
    RECORD_KINDS,
    RuleSet,
    RuleSyntaxError,
    compile_condition,
    would_loop,
)
from cxloop.store.base import utcnow
from cxloop.store.models.act import AlertRule, RuleFiring
from cxloop.store.models.customers import SEGMENT_FIELDS, Customer
from cxloop.store.models.org import OrgUnit

log = logging.getLogger(__name__)


class RuleError(ValueError):
    """A rule is invalid; ``field`` names the part, ``line``/``column`` the position."""

    def __init__(
        self, message: str, *, field: str, line: int | None = None, column: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.line = line
        self.column = column


@dataclass(frozen=True)
class CheckedRule:
    condition: str
    actions: list[act_actions.Action]
    segments: dict[str, list[str]]


def check_rule(
    condition: str, actions: list[dict[str, Any]], segments: dict[str, Any] | None
) -> CheckedRule:
    """Parse the condition, validate actions and segments, and refuse loops."""
    try:
        compiled = compile_condition(condition)
    except RuleSyntaxError as exc:
        raise RuleError(str(exc), field="condition", line=exc.line, column=exc.column) from None
    try:
        parsed = act_actions.parse_actions(actions)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in ("actions", *err["loc"]))
        raise RuleError(f"{where}: {err['msg']}", field=where) from None
    if not parsed:
        raise RuleError("a rule needs at least one action", field="actions")
    outputs = act_actions.output_kinds(parsed)
    if outputs and would_loop(compiled, outputs):
        raise RuleError(
            f"this rule would trigger itself: its actions produce {sorted(outputs)} records "
            "that its condition can match again",
            field="actions",
        )
    clean: dict[str, list[str]] = {}
    for key, values in (segments or {}).items():
        if key not in SEGMENT_FIELDS:
            raise RuleError(
                f"segments.{key}: unknown segment field; use one of {', '.join(SEGMENT_FIELDS)}",
                field=f"segments.{key}",
            )
        items = [values] if isinstance(values, str) else list(values)
        if not items or not all(isinstance(v, str) and v for v in items):
            raise RuleError(f"segments.{key}: give one or more values", field=f"segments.{key}")
        clean[key] = items
    return CheckedRule(condition, parsed, clean)


def create_rule(
    *,
    session: Session,
    org_unit_id: int,
    name: str,
    condition: str,
    actions: list[dict[str, Any]],
    segments: dict[str, Any] | None = None,
    is_active: bool = True,
    created_by_id: int | None = None,
) -> AlertRule:
    checked = check_rule(condition, actions, segments)
    rule = AlertRule(
        org_unit_id=org_unit_id,
        name=name,
        condition=checked.condition,
        actions=act_actions.dump_actions(checked.actions),
        segments=checked.segments,
        is_active=is_active,
        created_by_id=created_by_id,
    )
    session.add(rule)
    session.flush()
    invalidate_cache()
    return rule


def delete_rule(*, session: Session, rule: AlertRule) -> None:
    session.delete(rule)
    session.flush()
    invalidate_cache()


def update_rule(*, session: Session, rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    checked = check_rule(
        changes.get("condition", rule.condition),
        changes.get("actions", rule.actions),
        changes.get("segments", rule.segments),
    )
    rule.condition = checked.condition
    rule.actions = act_actions.dump_actions(checked.actions)
    rule.segments = checked.segments
    for name in ("name", "is_active", "org_unit_id"):
        if name in changes:
            setattr(rule, name, changes[name])
    rule.updated_at = utcnow()
    session.flush()
    invalidate_cache()
    return rule


# -- evaluation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _RuleInfo:
    id: int
    name: str
    org_unit_id: int
    unit_path: str
    segments: dict[str, list[str]]
    actions: list[act_actions.Action]


@dataclass
class _Compiled:
    ruleset: RuleSet
    rules: dict[int, _RuleInfo]
    needs_segment: bool
    signature: tuple[Any, ...]
    # unit id -> (path, code), filled on demand; dropped with the compiled rules.
    units: dict[int, tuple[str, str]] = field(default_factory=dict)
    units_since: float = field(default_factory=time.monotonic)


UNIT_CACHE_SECONDS = 60.0
_CACHE: dict[str, _Compiled] = {}
_CACHE_LOCK = threading.Lock()
# Bumped by every rule change made in this process: compiled rules a transaction holds are
# dropped at once. Changes made by other processes are seen by the next transaction.
_VERSION = 0
_CHECKED = "act_rules_checked"  # session.info key: (transaction, version, compiled rules)


def invalidate_cache() -> None:
    global _VERSION
    with _CACHE_LOCK:
        _CACHE.clear()
        _VERSION += 1


# Plain SQL: the ORM's statement caching costs more than the query itself.
_SIGNATURE = text(
    "SELECT count(*), max(updated_at), max(id) FROM act_rules WHERE is_active = :active"
)


def _signature(session: Session) -> tuple[Any, ...]:
    return tuple(session.execute(_SIGNATURE, {"active": True}).one())


def _compiled(session: Session) -> _Compiled:
    """The active rules, checked against the rule table once per transaction (a transaction's
    records are all evaluated against the rules it first saw, as a batch import is) and
    compiled once per change of the table."""
    version = _VERSION
    held = session.info.get(_CHECKED)
    if held is not None and held[0] is session.get_transaction() and held[1] == version:
        return held[2]
    compiled = _checked(session)
    session.info[_CHECKED] = (session.get_transaction(), version, compiled)
    return compiled


def _checked(session: Session) -> _Compiled:
    url = str(session.get_bind().engine.url)
    now = time.monotonic()
    with _CACHE_LOCK:
        hit = _CACHE.get(url)
    sig = _signature(session)
    if hit is not None and hit.signature == sig:
        if len(hit.units) > 10_000 or now - hit.units_since > UNIT_CACHE_SECONDS:
            hit.units.clear()  # a moved or renamed unit is seen within a minute
            hit.units_since = now
        return hit
    rows = session.execute(
        select(AlertRule, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == AlertRule.org_unit_id)
        .where(AlertRule.is_active.is_(True))
        .order_by(AlertRule.id)
    ).all()
    infos: dict[int, _RuleInfo] = {}
    sources: list[tuple[str, str]] = []
    for rule, path in rows:
        try:
            parsed = act_actions.parse_actions(rule.actions)
            compile_condition(rule.condition)
        except (RuleSyntaxError, ValidationError) as exc:  # stored before a language change
            log.error("alert rule %s is invalid and skipped: %s", rule.id, exc)
            continue
        infos[rule.id] = _RuleInfo(
            rule.id, rule.name, rule.org_unit_id, path, rule.segments or {}, parsed
        )
        sources.append((str(rule.id), rule.condition))
    compiled = _Compiled(
        RuleSet(sources),
        infos,
        any(i.segments for i in infos.values()) or any("segment." in c for _, c in sources),
        sig,
    )
    with _CACHE_LOCK:
        _CACHE[url] = compiled
    return compiled


def _unit(session: Session, compiled: _Compiled, unit_id: int) -> tuple[str, str]:
    known = compiled.units.get(unit_id)
    if known is None:
        row = session.execute(
            select(OrgUnit.path, OrgUnit.code).where(OrgUnit.id == unit_id)
        ).first()
        if row is None:
            raise ValueError(f"org_unit_id: no org unit {unit_id}")
        known = compiled.units[unit_id] = (row[0], row[1])
    return known


def record_fields(
    session: Session, record: RuleRecord, unit_code: str, *, with_segment: bool
) -> dict[str, Any]:
    """The rule-language record for ``record``: its fields plus kind, org unit and segment."""
    data = dict(record.fields)
    data["kind"] = record.kind
    data.setdefault("org_unit", unit_code)
    if with_segment and "segment" not in data and record.customer_id is not None:
        customer = session.get(Customer, record.customer_id)
        if customer is not None:
            data["segment"] = {f: getattr(customer, f) for f in SEGMENT_FIELDS}
    return data


def _segments_match(wanted: dict[str, list[str]], segment: Any) -> bool:
    if not wanted:
        return True
    if not isinstance(segment, dict):
        return False
    return all(segment.get(k) in values for k, values in wanted.items())


def evaluate_record(*, session: Session, record: RuleRecord) -> list[Firing]:
    """Run every active rule against ``record`` and carry out the actions of those that fire.

    Idempotent per (rule, record): a record delivered twice fires each rule once.
    """
    return _evaluate(session, record, None)


def evaluate_records(*, session: Session, records: list[RuleRecord]) -> list[Firing]:
    """:func:`evaluate_record` for a batch (an import): the rule table is checked once."""
    compiled = _compiled(session)
    return [f for record in records for f in _evaluate(session, record, compiled)]


def _evaluate(session: Session, record: RuleRecord, compiled: _Compiled | None) -> list[Firing]:
    if record.kind not in RECORD_KINDS:
        raise ValueError(f"kind: unknown record kind {record.kind!r}")
    if record.resurvey_case_id is not None:
        from cxloop.act.cases import record_resurvey_reply

        record_resurvey_reply(session=session, record=record)
        return []
    compiled = compiled or _compiled(session)
    if not compiled.rules:
        return []
    path, code = _unit(session, compiled, record.org_unit_id)
    data = record_fields(session, record, code, with_segment=compiled.needs_segment)
    firings = []
    for rule_id in compiled.ruleset.matches(data):
        info = compiled.rules[int(rule_id)]
        if not path.startswith(info.unit_path):
            continue
        if not _segments_match(info.segments, data.get("segment")):
            continue
        unit = session.get(OrgUnit, record.org_unit_id)
        assert unit is not None
        firing = _fire(session, info, record, unit)
        if firing is not None:
            firings.append(firing)
    return firings


# Built once: constructing a statement per firing costs more than running it.
_SEEN = select(RuleFiring.id).where(
    RuleFiring.rule_id == bindparam("rule_id"),
    RuleFiring.record_kind == bindparam("record_kind"),
    RuleFiring.record_id == bindparam("record_id"),
)
_INSERT_FIRING = insert(RuleFiring.__table__)  # type: ignore[arg-type]


def _fire(session: Session, info: _RuleInfo, record: RuleRecord, unit: OrgUnit) -> Firing | None:
    from cxloop.act import cases, messages, notify

    key = {"rule_id": info.id, "record_kind": record.kind, "record_id": record.id}
    seen = session.execute(_SEEN, key).first()
    if seen is not None:
        return None
    case = None
    deliveries: list[int] = []
    message_ids: list[int] = []
    for action in info.actions:
        if isinstance(action, act_actions.OpenCase):
            case = cases.open_case_for_record(
                session=session,
                record=record,
                unit=unit,
                action=action,
                rule_id=info.id,
                rule_name=info.name,
            )
        elif isinstance(action, act_actions.Notify):
            deliveries += notify.notify_firing(
                session=session,
                rule_name=info.name,
                record=record,
                unit=unit,
                case=case,
                action=action,
            )
        elif isinstance(action, act_actions.Praise):
            message_ids += messages.praise_from_record(
                session=session, record=record, unit=unit, rule_name=info.name
            )
        elif isinstance(action, act_actions.SendSurvey):
            request_survey(
                session,
                SurveyRequest(
                    record.customer_id, unit.id, None, record.kind, record.id, action.reason
                ),
            )
    firing = {**key, "org_unit_id": unit.id, "case_id": case.id if case else None}
    session.execute(_INSERT_FIRING, {**firing, "fired_at": utcnow()})
    session.flush()  # the messages and deliveries the actions added
    return Firing(
        info.id,
        info.name,
        record.kind,
        record.id,
        case.id if case else None,
        tuple(deliveries),
        tuple(message_ids),
    )
