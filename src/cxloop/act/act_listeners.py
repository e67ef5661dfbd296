"""The alert rules hear about stored signals: each kind is turned into
:class:`~cxloop.act.hooks.RuleRecord`s and evaluated in the storing transaction (the
publisher runs every listener in a savepoint, so a failing rule never loses a record)."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import hooks, resurvey, sources
from cxloop.signals.listeners import subscribe


def survey_responses(session: Session, rows: Sequence[Any]) -> None:
    """A reply to a case's re-survey (wave ``case:<id>``) updates that case's recovery."""
    records = [
        sources.response_record(row, resurvey_case_id=resurvey.case_of_wave(row.wave or ""))
        for row in rows
    ]
    hooks.records_arrived(session, records)


def feedback(session: Session, rows: Sequence[Any]) -> None:
    hooks.records_arrived(session, sources.feedback_records(session, rows))


def metric_points(session: Session, points: Sequence[Any]) -> None:
    """New or changed points, as ``metric`` records: ``metric("aht") > 600`` fires when a
    breaching value arrives."""
    from cxloop.store.models.metrics import MetricDefinition

    keys = dict(
        session.execute(
            select(MetricDefinition.id, MetricDefinition.key).where(
                MetricDefinition.id.in_({p.metric_id for p in points})
            )
        ).all()
    )
    records = [
        hooks.RuleRecord(
            kind="metric",
            # The value is part of the id: a corrected value is a new signal for the rules.
            id=f"{p.metric_id}:{p.org_unit_id}:{p.period}:{p.period_start}:{p.value:g}",
            org_unit_id=p.org_unit_id,
            fields={"metrics": {keys[p.metric_id]: p.value}},
        )
        for p in points
    ]
    hooks.records_arrived(session, records)


def digital_sessions(session: Session, pairs: Sequence[tuple[Any, Any]]) -> None:
    """Frustrated sessions as they close: the closing row with its fresh score."""
    records = []
    for row, scored in pairs:
        scored_row = SimpleNamespace(
            id=row.id,
            org_unit_id=row.org_unit_id,
            customer_id=row.customer_id,
            last_seen_at=row.last_seen_at,
            dxs=scored.score.dxs,
        )
        types = (s.type for s in scored.score.signals)
        records.append(sources.digital_session_record(scored_row, types))
    hooks.records_arrived(session, records)


subscribe("survey_response", survey_responses)
subscribe("feedback", feedback)
subscribe("metric_point", metric_points)
subscribe("digital_session", digital_sessions)
