"""Stale CX days: marked when records are stored, refreshed by a job a minute later.

A stored response, feedback record or digital session marks its unit's calendar day (in
the unit's time zone) in ``cx_dirty_days``, in the storing transaction; marking twice is
one row. :func:`refresh_dirty` then recomputes only those days' rollups for those units,
and the week / month / quarter totals of those units and their ancestors — never the whole
company. A record dated long ago marks (and refreshes) its own old day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.engage.cx_metrics import refresh_rollups, zone_info
from cxloop.store.base import UTCDateTime, utcnow
from cxloop.store.models.metrics import CxDirtyDay
from cxloop.store.models.org import OrgUnit

BATCH = 20_000  # days refreshed per run; the rest wait for the next minute
_MARKS: Table = CxDirtyDay.__table__  # type: ignore[assignment]
_LOCK = 0x63786479  # PostgreSQL advisory lock: one refresh at a time across workers


def mark_stored(session: Session, stamps: Iterable[tuple[int | None, datetime | None]]) -> int:
    """Mark the unit's local day of each (unit, instant) stale; returns cells marked."""
    pairs = {(u, at) for u, at in stamps if u is not None and at is not None}
    if not pairs:
        return 0
    # Core statements built once: this runs inside every stored response's transaction.
    conn = session.connection()
    zones = dict(conn.execute(_ZONES, {"ids": sorted({u for u, _ in pairs})}).all())
    cells = {
        (u, at.astimezone(zone_info(zones[u] or "UTC")).date()) for u, at in pairs if u in zones
    }
    now = utcnow()
    rows = [{"org_unit_id": u, "day": d, "marked_at": now} for u, d in sorted(cells)]
    if rows:
        conn.execute(_upsert(conn.dialect.name), rows)
    return len(rows)


_UNITS: Table = OrgUnit.__table__  # type: ignore[assignment]
_ZONES = select(_UNITS.c.id, _UNITS.c.timezone).where(
    _UNITS.c.id.in_(bindparam("ids", expanding=True))
)


@lru_cache(maxsize=4)
def _upsert(dialect_name: str) -> Any:
    """Insert, or move ``marked_at`` forward when the day is already marked (so a refresh
    that read the older mark does not clear the newer one)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    stmt = dialect.insert(_MARKS)
    return stmt.on_conflict_do_update(
        index_elements=["org_unit_id", "day"], set_={"marked_at": stmt.excluded.marked_at}
    )


def refresh_dirty(*, session: Session, limit: int = BATCH) -> dict[str, int]:
    """Recompute the marked days (oldest marks first) and clear their marks."""
    if session.get_bind().dialect.name == "postgresql":
        got = session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _LOCK})
        if not got:
            return {"days": 0, "busy": 1}
    D = CxDirtyDay
    marks = session.execute(
        select(D.id, D.org_unit_id, D.day, D.marked_at).order_by(D.id).limit(limit)
    ).all()
    if not marks:
        return {"days": 0}
    written = refresh_cells(session=session, cells=((m.org_unit_id, m.day) for m in marks))
    clear_marks(session, [(m.id, m.marked_at) for m in marks])
    return {"days": len(marks), "rows": written}


def clear_marks(session: Session, marks: Sequence[tuple[int, datetime]]) -> None:
    """Delete the (id, marked_at) marks read before a refresh. A mark moved forward since
    (a record stored while the refresh ran) stays for the next run."""
    if not marks:
        return
    session.connection().execute(
        delete(_MARKS).where(
            _MARKS.c.id == bindparam("i"),
            _MARKS.c.marked_at == bindparam("m", type_=UTCDateTime()),
        ),
        [{"i": i, "m": at} for i, at in marks],
    )


def refresh_cells(*, session: Session, cells: Iterable[tuple[int, date]]) -> int:
    """Recompute the CX rollups of (unit, day) cells; returns day rows written.

    Cells are grouped by month: one refresh per month over the span of its marked days,
    for the units marked in it."""
    months: dict[date, tuple[set[int], set[date]]] = defaultdict(lambda: (set(), set()))
    for unit_id, day in cells:
        units, days = months[day.replace(day=1)]
        units.add(unit_id)
        days.add(day)
    written = 0
    for _, (units, days) in sorted(months.items()):
        got = refresh_rollups(
            session=session, since=min(days), until=max(days) + timedelta(days=1), unit_ids=units
        )
        written += sum(got.values())
    return written


def pending(session: Session) -> list[tuple[int, date]]:
    """The marked (unit, day) cells, oldest mark first."""
    rows = session.execute(
        select(CxDirtyDay.org_unit_id, CxDirtyDay.day).order_by(CxDirtyDay.id)
    ).all()
    return [(int(u), d) for u, d in rows]
