"""How well the loop is closed: SLA compliance, time to first contact, recovery."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.act import Case
from cxloop.store.scope import Scope


@dataclass(frozen=True)
class LoopMetrics:
    cases: int
    open: int
    overdue: int
    resolved: int
    closed_within_sla: float | None  # share of resolved cases resolved by their due time
    median_hours_to_first_contact: float | None
    resurveyed: int
    recovery_rate: float | None  # share of re-surveyed cases whose score went up
    mean_score_change: float | None


def loop_metrics(
    *, session: Session, scope: Scope, since: datetime | None = None, now: datetime
) -> LoopMetrics:
    stmt = select(
        Case.status,
        Case.created_at,
        Case.due_at,
        Case.resolved_at,
        Case.first_contact_at,
        Case.original_score,
        Case.resurvey_score,
    ).where(scope.condition(Case.org_unit_id))
    if since is not None:
        stmt = stmt.where(Case.created_at >= since)
    rows = session.execute(stmt).all()
    open_rows = [r for r in rows if r.resolved_at is None and r.status not in ("closed",)]
    with_due = [r for r in rows if r.resolved_at is not None and r.due_at is not None]
    within = sum(1 for r in with_due if r.resolved_at <= r.due_at)
    contact_hours = [
        (r.first_contact_at - r.created_at).total_seconds() / 3600
        for r in rows
        if r.first_contact_at is not None
    ]
    pairs = [
        (r.original_score, r.resurvey_score)
        for r in rows
        if r.original_score is not None and r.resurvey_score is not None
    ]
    return LoopMetrics(
        cases=len(rows),
        open=len(open_rows),
        overdue=sum(1 for r in open_rows if r.due_at is not None and r.due_at < now),
        resolved=sum(1 for r in rows if r.resolved_at is not None),
        closed_within_sla=within / len(with_due) if with_due else None,
        median_hours_to_first_contact=statistics.median(contact_hours) if contact_hours else None,
        resurveyed=len(pairs),
        recovery_rate=sum(1 for a, b in pairs if b > a) / len(pairs) if pairs else None,
        mean_score_change=statistics.fmean(b - a for a, b in pairs) if pairs else None,
    )
