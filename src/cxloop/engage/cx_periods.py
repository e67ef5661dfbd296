"""Subtree totals of CX figures per unit and scorecard period (``cx_period_rollups``).

A scorecard reads one row per period shown, whatever the number of stores and days below
the unit. The rows are built inside the database, one tree level at a time, deepest first:
a unit's week or month is its own day rollups plus its children's totals (already built);
a quarter is the sum of its three months. Everything is an insert-select, no Python loop
over rows, so a year of a thousand stores rebuilds in seconds.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from cxloop.engage.cx_stats import Moments
from cxloop.signals.metrics import period_floor, period_next
from cxloop.signals.metrics_sql import depths, period_floor_sql, unit_depth
from cxloop.store.models.metrics import CxPeriodRollup, CxRollup
from cxloop.store.models.org import OrgUnit

GRAINS = ("week", "month", "quarter")
_COLS = ("metric", "grain", "org_unit_id", "period_start", "dim", "dim_value")
_SUMS = ("n", "a", "b", "s", "ss")


def period_span(grain: str, since: date, until: date) -> tuple[date, date]:
    """The whole ``grain`` periods that hold the days ``since`` ≤ day < ``until``."""
    return period_floor(grain, since), period_next(grain, period_floor(grain, until - timedelta(1)))


def refresh_period_rollups(
    *,
    session: Session,
    since: date,
    until: date,
    metrics: Iterable[str] | None = None,
    unit_ids: Collection[int] | None = None,
) -> dict[str, int]:
    """Rebuild the period totals of every period touching ``since`` ≤ day < ``until``.

    Reads ``cx_rollups`` (the day rows), so refresh those first. ``unit_ids`` (closed under
    ancestors: ``metrics_sql.with_ancestors``) limits the rebuild to those units; the
    others' totals are read as they are. Returns rows per grain."""
    names = sorted(set(metrics)) if metrics is not None else None
    units = sorted(unit_ids) if unit_ids is not None else None
    written: dict[str, int] = {}
    levels = depths(session)
    for grain in GRAINS:
        lo, hi = period_span(grain, since, until)
        P = CxPeriodRollup
        where = [P.grain == grain, P.period_start >= lo, P.period_start < hi]
        if names is not None:
            where.append(P.metric.in_(names))
        if units is not None:
            where.append(P.org_unit_id.in_(units))
        session.execute(delete(P).where(*where))
        if grain == "quarter":
            written[grain] = _quarters_from_months(session, lo, hi, names, units)
            continue
        total = 0
        for depth in levels:
            total += _level(session, grain, depth, lo, hi, names, units)
        written[grain] = total
    return written


def _level(
    session: Session,
    grain: str,
    depth: int,
    lo: date,
    hi: date,
    names: list[str] | None,
    units: list[int] | None,
) -> int:
    """Insert the totals of the units ``depth`` deep: own day rows + children's totals."""
    R, P = CxRollup, CxPeriodRollup
    own = (
        select(
            R.metric,
            R.org_unit_id.label("unit_id"),
            period_floor_sql(session, grain, R.day).label("ps"),
            R.dim,
            R.dim_value,
            *(getattr(R, c) for c in _SUMS),
        )
        .join(OrgUnit, OrgUnit.id == R.org_unit_id)
        .where(unit_depth() == depth, R.day >= lo, R.day < hi)
    )
    kids = (
        select(
            P.metric,
            OrgUnit.parent_id.label("unit_id"),
            P.period_start.label("ps"),
            P.dim,
            P.dim_value,
            *(getattr(P, c) for c in _SUMS),
        )
        .join(OrgUnit, OrgUnit.id == P.org_unit_id)
        .where(
            unit_depth() == depth + 1,
            OrgUnit.parent_id.is_not(None),
            P.grain == grain,
            P.period_start >= lo,
            P.period_start < hi,
        )
    )
    if names is not None:
        own = own.where(R.metric.in_(names))
        kids = kids.where(P.metric.in_(names))
    if units is not None:
        own = own.where(R.org_unit_id.in_(units))
        kids = kids.where(OrgUnit.parent_id.in_(units))
    u = union_all(own, kids).subquery()
    keys = (u.c.metric, u.c.unit_id, u.c.ps, u.c.dim, u.c.dim_value)
    sel = select(
        u.c.metric,
        literal(grain),
        u.c.unit_id,
        u.c.ps,
        u.c.dim,
        u.c.dim_value,
        *(func.sum(u.c[c]) for c in _SUMS),
    ).group_by(*keys)
    result = session.connection().execute(
        _counted(insert(CxPeriodRollup).from_select([*_COLS, *_SUMS], sel))
    )
    return _rowcount(result)


def _quarters_from_months(
    session: Session, lo: date, hi: date, names: list[str] | None, units: list[int] | None
) -> int:
    P = CxPeriodRollup
    ps = period_floor_sql(session, "quarter", P.period_start)
    sel = (
        select(
            P.metric,
            literal("quarter"),
            P.org_unit_id,
            ps,
            P.dim,
            P.dim_value,
            *(func.sum(getattr(P, c)) for c in _SUMS),
        )
        .where(P.grain == "month", P.period_start >= lo, P.period_start < hi)
        .group_by(P.metric, P.org_unit_id, ps, P.dim, P.dim_value)
    )
    if names is not None:
        sel = sel.where(P.metric.in_(names))
    if units is not None:
        sel = sel.where(P.org_unit_id.in_(units))
    result = session.connection().execute(_counted(insert(P).from_select([*_COLS, *_SUMS], sel)))
    return _rowcount(result)


def period_moments(
    *,
    session: Session,
    metric: str,
    unit_id: int,
    grain: str,
    starts: list[date],
    dim: str = "",
    value: str = "",
) -> list[Moments | None]:
    """The subtree totals of ``unit_id`` for each period in ``starts`` (``None``: no data)."""
    P = CxPeriodRollup
    rows = session.execute(
        select(P.period_start, *(getattr(P, c) for c in _SUMS)).where(
            P.metric == metric,
            P.grain == grain,
            P.dim == dim,
            P.dim_value == value,
            P.org_unit_id == unit_id,
            P.period_start >= starts[0],
            P.period_start <= starts[-1],
        )
    )
    found = {_as_date(r[0]): _moments(r[1:]) for r in rows}
    return [m if m is not None and m.n else None for m in (found.get(s) for s in starts)]


def segment_moments(
    *, session: Session, metric: str, unit_ids: list[int], grain: str, start: date, dim: str
) -> dict[tuple[int, str], Moments]:
    """(unit, segment value) → totals of one period, for comparing segments or units."""
    P = CxPeriodRollup
    rows = session.execute(
        select(P.org_unit_id, P.dim_value, *(getattr(P, c) for c in _SUMS)).where(
            P.metric == metric,
            P.grain == grain,
            P.dim == dim,
            P.org_unit_id.in_(unit_ids),
            P.period_start == start,
        )
    )
    return {(int(r[0]), str(r[1])): _moments(r[2:]) for r in rows if r[2]}


def _moments(row: Any) -> Moments:
    n, a, b, s, ss = tuple(row)
    return Moments(int(n or 0), int(a or 0), int(b or 0), float(s or 0), float(ss or 0))


def _as_date(d: Any) -> date:
    return d if isinstance(d, date) else date.fromisoformat(str(d))


def _rowcount(result: Any) -> int:
    return max(0, int(getattr(result, "rowcount", 0) or 0))


def _counted(stmt: Any) -> Any:
    """Keep the row count of an insert-select (PostgreSQL's cursor is closed by then)."""
    return stmt.execution_options(preserve_rowcount=True)
