"""The scorecard hears about stored signals: each record marks its unit's day stale in the
storing transaction; ``refresh_dirty_cx_days`` folds the marked days in within a minute.

Metric points need no mark: ``upsert_points`` refreshes their rollups in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cxloop.engage.cx_dirty import mark_stored
from cxloop.signals.listeners import subscribe


def survey_responses(session: Session, rows: Sequence[Any]) -> None:
    mark_stored(session, ((r.org_unit_id, r.completed_at) for r in rows))


def feedback(session: Session, rows: Sequence[Any]) -> None:
    mark_stored(session, ((r.org_unit_id, r.occurred_at) for r in rows))


def digital_sessions(session: Session, pairs: Sequence[tuple[Any, Any]]) -> None:
    mark_stored(session, ((row.org_unit_id, row.started_at) for row, _ in pairs))


subscribe("survey_response", survey_responses)
subscribe("feedback", feedback)
subscribe("digital_session", digital_sessions)
