"""Dry-run a rule condition against the stored records of the last days: nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act.hooks import sources
from cxloop.act.rule_language import RuleSet
from cxloop.act.rules import RuleError, _segments_match, check_rule
from cxloop.store.base import utcnow
from cxloop.store.models.customers import SEGMENT_FIELDS, Customer
from cxloop.store.models.org import OrgUnit


@dataclass(frozen=True)
class DryRunHit:
    kind: str
    id: str
    org_unit_id: int
    at: datetime | None
    text: str | None
    score: float | None


@dataclass
class DryRunResult:
    evaluated: int = 0
    matched: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    samples: list[DryRunHit] = field(default_factory=list)


def dry_run(
    *,
    session: Session,
    condition: str,
    org_unit_id: int,
    segments: dict[str, Any] | None = None,
    days: int = 30,
    now: datetime | None = None,
    sample_size: int = 20,
) -> DryRunResult:
    """What the condition would have matched among the stored records of the last ``days``.

    Reads every registered :class:`~cxloop.act.hooks.RecordSource`; nothing is written.
    """
    checked = check_rule(condition, [{"type": "praise"}], segments)
    ruleset = RuleSet({"r": checked.condition})
    unit = session.get(OrgUnit, org_unit_id)
    if unit is None:
        raise RuleError(f"org unit {org_unit_id} not found", field="org_unit_id")
    unit_ids = list(
        session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))).all()
    )
    codes = {i: c for i, c in session.execute(select(OrgUnit.id, OrgUnit.code))}
    since = (now or utcnow()) - timedelta(days=days)
    result = DryRunResult()
    customers: dict[int, dict[str, Any]] = {}
    for kind, source in sorted(sources().items()):
        result.sources.append(kind)
        for rec in source.recent(session, since=since, unit_ids=unit_ids):
            result.evaluated += 1
            data = dict(rec.fields)
            data["kind"] = rec.kind
            data.setdefault("org_unit", codes.get(rec.org_unit_id))
            if checked.segments and "segment" not in data and rec.customer_id is not None:
                if rec.customer_id not in customers:
                    c = session.get(Customer, rec.customer_id)
                    customers[rec.customer_id] = (
                        {f: getattr(c, f) for f in SEGMENT_FIELDS} if c else {}
                    )
                data["segment"] = customers[rec.customer_id]
            if not ruleset.matches(data) or not _segments_match(
                checked.segments, data.get("segment")
            ):
                continue
            result.matched += 1
            result.by_kind[rec.kind] = result.by_kind.get(rec.kind, 0) + 1
            if len(result.samples) < sample_size:
                text = data.get("text")
                result.samples.append(
                    DryRunHit(
                        rec.kind,
                        rec.id,
                        rec.org_unit_id,
                        rec.at,
                        text[:300] if isinstance(text, str) else None,
                        rec.score,
                    )
                )
    return result
