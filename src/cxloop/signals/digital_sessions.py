"""Scoring stored sessions: read their batches back, run ``score_stored``, keep the result.

A session ends after 30 minutes without a batch; :func:`close_idle_sessions` scores the ended
ones, stores signals and page scores, and hands frustrated sessions to the act stage.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.orm import Session

from cxloop.insight.digital import SessionScore, score_stored
from cxloop.signals.digital_bulk import insert_rows, update_rows
from cxloop.signals.digital_sites import SiteInfo, site_info
from cxloop.signals.listeners import publish
from cxloop.store.base import utcnow
from cxloop.store.models.digital import (
    DigitalBatch,
    DigitalPageScore,
    DigitalSession,
    DigitalSignal,
    DigitalSite,
)

log = logging.getLogger(__name__)

_loads: Callable[[str], Any] = json.loads
try:  # parses stored batches ~2.5x faster than the stdlib; optional
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover - depends on the installed extras
    pass

SESSION_IDLE = timedelta(minutes=30)
# Sessions closed per round trip: big enough to amortise the statements, small enough that
# a round's events (~250 per session) stay a few tens of MB.
CLOSE_CHUNK = 500
# Signals that on their own mark a session as frustrated, whatever its DXS.
FRUSTRATION_TYPES = frozenset({"rage_click", "dead_click", "error_click", "thrashed_cursor"})


def stored_events(session: Session, session_id: int) -> list[dict[str, Any]]:
    """A session's stored events (wire-format dicts), in the order their batches came."""
    rows = session.scalars(
        select(DigitalBatch.body)
        .where(DigitalBatch.session_id == session_id)
        .order_by(DigitalBatch.id)
    )
    return body_events(rows)


def body_events(bodies: Iterable[str]) -> list[dict[str, Any]]:
    """The events of stored batch bodies, as the wire-format dicts ``score_stored`` reads."""
    items: list[dict[str, Any]] = []
    for body in bodies:
        items += _loads(body)["events"]
    return items


@dataclass(frozen=True)
class ScoredSession:
    """A session's score, with client times mapped to UTC."""

    session_id: int
    score: SessionScore
    clock_offset_ms: int

    def at(self, ms: int) -> datetime:
        return datetime.fromtimestamp((ms + self.clock_offset_ms) / 1000, UTC)


@dataclass(frozen=True, slots=True)
class Closing:
    """What closing needs of a session row (read with Core: ORM objects cost more)."""

    id: int
    site_id: int
    org_unit_id: int
    customer_id: int | None
    started_at: datetime
    last_seen_at: datetime
    clock_offset_ms: int


def score_row(session: Session, row: DigitalSession, site: SiteInfo) -> ScoredSession | None:
    """Score a stored session (open or closed) without changing anything."""
    items = stored_events(session, row.id)
    if not items:
        return None
    return ScoredSession(row.id, score_stored(items, site.thresholds), row.clock_offset_ms)


def is_frustrated(scored: SessionScore, site: SiteInfo) -> bool:
    return scored.dxs < site.frustration_dxs or any(
        s.type in FRUSTRATION_TYPES for s in scored.signals
    )


def close_idle_sessions(
    *,
    session: Session,
    now: datetime | None = None,
    idle: timedelta = SESSION_IDLE,
    chunk: int = CLOSE_CHUNK,
) -> int:
    """Close every open session whose last batch came more than ``idle`` ago; returns how
    many were scored. Works ``chunk`` sessions at a time: one read of their batches, one
    delete per result table, one executemany each for signals, page scores and figures."""
    cutoff = (now or utcnow()) - idle
    session.flush()
    rows = [
        Closing(*r)
        for r in session.execute(
            select(
                DigitalSession.id,
                DigitalSession.site_id,
                DigitalSession.org_unit_id,
                DigitalSession.customer_id,
                DigitalSession.started_at,
                DigitalSession.last_seen_at,
                DigitalSession.clock_offset_ms,
            )
            .where(DigitalSession.status == "open", DigitalSession.last_seen_at < cutoff)
            .order_by(DigitalSession.id)
        )
    ]
    sites = _sites(session, {r.site_id for r in rows})
    closed = 0
    for k in range(0, len(rows), chunk):
        done = close_chunk(session=session, rows=rows[k : k + chunk], sites=sites)
        closed += len(done)
        # one hand-over per chunk: the rules load their table and open a savepoint once
        publish(session, "digital_session", [(row, s) for row, s, frustrated in done if frustrated])
    # rows this session already holds must not show their old status and scores
    ids = {r.id for r in rows}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, DigitalSession) and obj.id in ids:
            session.expire(obj)
    return closed


def close_chunk(
    *, session: Session, rows: Sequence[Closing], sites: Mapping[int, SiteInfo]
) -> list[tuple[Closing, ScoredSession, bool]]:
    """Score and store a group of ended sessions and mark them closed.

    Returns (row, score, frustrated) for each session that had events; the others are only
    closed. Scores replace whatever the sessions had stored before (a reopened session).
    """
    conn = session.connection()
    # Bodies stay text until their session is scored: a chunk's events held as objects at
    # once would make the garbage collector walk them over and over.
    bodies: dict[int, list[str]] = {}
    for session_id, body in conn.execute(_BODIES, {"ids": [r.id for r in rows]}):
        bodies.setdefault(session_id, []).append(body)
    done: list[tuple[Closing, ScoredSession, bool]] = []
    signals: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    figures: list[dict[str, Any]] = []
    scored_at = utcnow()
    for row in rows:
        items = body_events(bodies.get(row.id, ()))
        if not items:
            continue
        site = sites[row.site_id]
        # the stored dicts are scored as they are: no object per event (see score_stored)
        result = score_stored(items, site.thresholds)
        scored = ScoredSession(row.id, result, row.clock_offset_ms)
        frustrated = is_frustrated(scored.score, site)
        done.append((row, scored, frustrated))
        _result_rows(row, scored, signals, pages)
        figures.append(_figures(row, scored.score, frustrated, scored_at))
    ids = [row.id for row, _, _ in done]
    if ids:
        conn.execute(delete(_SIGNALS).where(_SIGNALS.c.session_id.in_(ids)))
        conn.execute(delete(_PAGES).where(_PAGES.c.session_id.in_(ids)))
    insert_rows(conn, _SIGNALS, signals)
    insert_rows(conn, _PAGES, pages)
    update_rows(conn, _SESSIONS, figures, fallback=_STORE_FIGURES, constants={"status": "closed"})
    scored_ids = set(ids)
    empty = [r.id for r in rows if r.id not in scored_ids]
    if empty:
        conn.execute(update(_SESSIONS).where(_S.id.in_(empty)).values(status="closed"))
    return done


def _result_rows(
    row: Closing, scored: ScoredSession, signals: list[dict[str, Any]], pages: list[dict[str, Any]]
) -> None:
    common = {"session_id": row.id, "site_id": row.site_id, "org_unit_id": row.org_unit_id}
    for s in scored.score.signals:
        signals.append(
            {
                **common,
                "type": s.type,
                "at": scored.at(s.at),
                "at_ms": s.at,
                "url": s.url[:2048],
                "selector": s.selector[:512],
                "details": dict(s.details),
            }
        )
    for i, p in enumerate(scored.score.page_scores):
        pages.append(
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
        )


def _figures(
    row: Closing, result: SessionScore, frustrated: bool, scored_at: datetime
) -> dict[str, Any]:
    eng = result.engagement
    return {
        "id": row.id,
        "dxs": result.dxs,
        "pillars": dict(result.pillars),
        "engagement": {
            "pages": eng.pages,
            "duration_ms": eng.duration_ms,
            "active_ms": eng.active_ms,
            "max_scroll_depth": round(eng.max_scroll_depth, 4),
            "mean_scroll_depth": round(eng.mean_scroll_depth, 4),
        },
        "pages": eng.pages,
        "signal_count": len(result.signals),
        "frustrated": frustrated,
        "scored_at": scored_at,
    }


_SESSIONS: Table = DigitalSession.__table__  # type: ignore[assignment]
_SIGNALS: Table = DigitalSignal.__table__  # type: ignore[assignment]
_PAGES: Table = DigitalPageScore.__table__  # type: ignore[assignment]
_BATCHES: Table = DigitalBatch.__table__  # type: ignore[assignment]
_S = _SESSIONS.c
_BODIES = (
    select(_BATCHES.c.session_id, _BATCHES.c.body)
    .where(_BATCHES.c.session_id.in_(bindparam("ids", expanding=True)))
    .order_by(_BATCHES.c.session_id, _BATCHES.c.id)
)
_STORE_FIGURES = (
    update(_SESSIONS)
    .where(_S.id == bindparam("c_id"))
    .values(
        status="closed",
        dxs=bindparam("c_dxs", type_=_S.dxs.type),
        pillars=bindparam("c_pillars", type_=_S.pillars.type),
        engagement=bindparam("c_engagement", type_=_S.engagement.type),
        pages=bindparam("c_pages", type_=_S.pages.type),
        signal_count=bindparam("c_signal_count", type_=_S.signal_count.type),
        frustrated=bindparam("c_frustrated", type_=_S.frustrated.type),
        scored_at=bindparam("c_scored_at", type_=_S.scored_at.type),
    )
)


def _sites(session: Session, ids: Iterable[int]) -> dict[int, SiteInfo]:
    ids = list(ids)
    if not ids:
        return {}
    rows = session.scalars(select(DigitalSite).where(DigitalSite.id.in_(ids)))
    return {s.id: site_info(s) for s in rows}


def site_of(session: Session, row: DigitalSession) -> SiteInfo:
    return _sites(session, [row.site_id])[row.site_id]
