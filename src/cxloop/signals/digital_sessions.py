"""Scoring stored sessions: read their batches back, run ``score_session``, keep the result.

A session ends after 30 minutes without a batch; :func:`close_idle_sessions` scores the ended
ones, stores signals and page scores, and hands frustrated sessions to the act stage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cxloop.insight.digital import Event, SessionScore, event_from_stored, score_session
from cxloop.signals.digital_sites import SiteInfo, site_info
from cxloop.store.base import utcnow
from cxloop.store.models.digital import (
    DigitalBatch,
    DigitalPageScore,
    DigitalSession,
    DigitalSignal,
    DigitalSite,
)

try:  # the close-the-loop stage is optional: without it, sessions are only stored
    from cxloop.act import hooks as _hooks
except ImportError:  # pragma: no cover - depends on the installed areas
    _hooks = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

SESSION_IDLE = timedelta(minutes=30)
# Signals that on their own mark a session as frustrated, whatever its DXS.
FRUSTRATION_TYPES = frozenset({"rage_click", "dead_click", "error_click", "thrashed_cursor"})


def session_events(session: Session, session_id: int) -> list[Event]:
    rows = session.scalars(select(DigitalBatch.body).where(DigitalBatch.session_id == session_id))
    return [event_from_stored(e) for body in rows for e in json.loads(body)["events"]]


@dataclass(frozen=True)
class ScoredSession:
    """A session's score, with client times mapped to UTC."""

    session_id: int
    score: SessionScore
    clock_offset_ms: int

    def at(self, ms: int) -> datetime:
        return datetime.fromtimestamp((ms + self.clock_offset_ms) / 1000, UTC)


def score_row(session: Session, row: DigitalSession, site: SiteInfo) -> ScoredSession | None:
    """Score a stored session (open or closed) without changing anything."""
    events = session_events(session, row.id)
    if not events:
        return None
    return ScoredSession(row.id, score_session(events, site.thresholds), row.clock_offset_ms)


def is_frustrated(scored: SessionScore, site: SiteInfo) -> bool:
    return scored.dxs < site.frustration_dxs or any(
        s.type in FRUSTRATION_TYPES for s in scored.signals
    )


def store_score(
    *, session: Session, row: DigitalSession, site: SiteInfo, scored: ScoredSession
) -> None:
    """Replace the session's stored signals, page scores and figures with ``scored``."""
    result = scored.score
    session.execute(delete(DigitalSignal).where(DigitalSignal.session_id == row.id))
    session.execute(delete(DigitalPageScore).where(DigitalPageScore.session_id == row.id))
    common = {"session_id": row.id, "site_id": row.site_id, "org_unit_id": row.org_unit_id}
    signals = [
        {
            **common,
            "type": s.type,
            "at": scored.at(s.at),
            "at_ms": s.at,
            "url": s.url[:2048],
            "selector": s.selector[:512],
            "details": dict(s.details),
        }
        for s in result.signals
    ]
    pages = [
        {
            **common,
            "started_at": row.started_at,
            "position": i,
            "url": p.url[:2048],
            "views": p.views,
            "dxs": p.dxs,
            "active_ms": p.active_ms,
            "max_scroll_depth": p.max_scroll_depth,
            "signals": dict(p.signals),
        }
        for i, p in enumerate(result.page_scores)
    ]
    if signals:
        session.execute(insert(DigitalSignal), signals)
    if pages:
        session.execute(insert(DigitalPageScore), pages)
    eng = result.engagement
    row.dxs = result.dxs
    row.pillars = dict(result.pillars)
    row.engagement = {
        "pages": eng.pages,
        "duration_ms": eng.duration_ms,
        "active_ms": eng.active_ms,
        "max_scroll_depth": round(eng.max_scroll_depth, 4),
        "mean_scroll_depth": round(eng.mean_scroll_depth, 4),
    }
    row.pages = eng.pages
    row.signal_count = len(result.signals)
    row.frustrated = is_frustrated(result, site)
    row.scored_at = utcnow()


def close_session(*, session: Session, row: DigitalSession, site: SiteInfo) -> bool:
    """Score, store and close one ended session; tell the act stage if it was frustrated."""
    scored = score_row(session, row, site)
    row.status = "closed"
    if scored is None:
        return False
    store_score(session=session, row=row, site=site, scored=scored)
    if row.frustrated:
        _notify(session, row, scored)
    return True


def close_idle_sessions(
    *, session: Session, now: datetime | None = None, idle: timedelta = SESSION_IDLE
) -> int:
    """Close every open session whose last batch came more than ``idle`` ago."""
    cutoff = (now or utcnow()) - idle
    rows = session.scalars(
        select(DigitalSession)
        .where(DigitalSession.status == "open", DigitalSession.last_seen_at < cutoff)
        .order_by(DigitalSession.id)
    ).all()
    sites = _sites(session, {r.site_id for r in rows})
    closed = 0
    for row in rows:
        closed += close_session(session=session, row=row, site=sites[row.site_id])
    session.flush()
    return closed


def _sites(session: Session, ids: Iterable[int]) -> dict[int, SiteInfo]:
    ids = list(ids)
    if not ids:
        return {}
    rows = session.scalars(select(DigitalSite).where(DigitalSite.id.in_(ids)))
    return {s.id: site_info(s) for s in rows}


def site_of(session: Session, row: DigitalSession) -> SiteInfo:
    return _sites(session, [row.site_id])[row.site_id]


def rule_record(row: DigitalSession, scored: ScoredSession) -> Any:
    """The act stage's record for a scored session (kind ``digital_session``)."""
    assert _hooks is not None
    types = sorted({s.type for s in scored.score.signals})
    return _hooks.RuleRecord(
        kind="digital_session",
        id=str(row.id),
        org_unit_id=row.org_unit_id,
        fields={
            "dxs": scored.score.dxs,
            "signals": types,
            "source": "digital",
            "touchpoint": "web",
        },
        customer_id=row.customer_id,
        at=row.last_seen_at,
    )


def _notify(session: Session, row: DigitalSession, scored: ScoredSession) -> None:
    if _hooks is None:
        return
    record = rule_record(row, scored)
    try:
        # A failing rule must not lose the score: the hook runs in a savepoint.
        with session.begin_nested():
            _hooks.record_arrived(session, record)
    except Exception:  # noqa: BLE001
        log.exception("digital: alert rules failed for session %s", row.id)
