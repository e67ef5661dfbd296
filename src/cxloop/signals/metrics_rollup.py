"""Per-unit, per-period values of operational metrics, maintained after points are written.

A unit's value for a period is its own point when it has one; otherwise its children's
values combined by the metric's aggregation (sum, or mean of the children). So a region
figure entered next to its stores' figures is never counted twice, and an unbalanced tree
(a store directly under the company) still adds up. Within one unit, the period's own
points are used, else the coarsest finer points (days inside a month); coarser points are
never split. A period with no points anywhere below a unit has no row: a gap, not zero.

The work happens in the database: per rollup period, one insert-select of every unit's own
values, then one of the children's combined values per tree level, deepest first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session, aliased

from cxloop.signals.metrics import is_finer, period_floor, period_next
from cxloop.signals.metrics_sql import depths, period_floor_sql, unit_depth
from cxloop.store.models.metrics import PERIOD_KINDS, MetricDefinition, MetricPoint, MetricRollup
from cxloop.store.models.org import OrgUnit

ROLLUP_PERIODS = ("week", "month", "quarter")
_ANALYZE_AFTER = 200  # metric × period cells
_COLS = ("metric_id", "org_unit_id", "period", "period_start", "value")


def affected(points: Iterable[tuple[int, str, date]]) -> set[tuple[int, str, date]]:
    """The (metric, rollup period, bucket start) cells that points (metric, period, start)
    feed. A week crossing a month boundary feeds the month it starts in."""
    out: set[tuple[int, str, date]] = set()
    for metric_id, kind, start in points:
        for rp in ROLLUP_PERIODS:
            if kind == rp or is_finer(kind, rp):
                out.add((metric_id, rp, period_floor(rp, start)))
    return out


def refresh_metric_rollups(
    *,
    session: Session,
    cells: Iterable[tuple[int, str, date]],
    unit_ids: Collection[int] | None = None,
) -> int:
    """Recompute the rollups of the given cells; returns rows written.

    Cells are grouped per rollup period into metrics × bucket starts (recomputing a cell
    that did not change is harmless: it is rebuilt from the points). ``unit_ids`` (closed
    under ancestors: ``metrics_sql.with_ancestors``) limits the work to those units, the
    others' rollups are read as they are; ``None`` recomputes every unit."""
    units = sorted(unit_ids) if unit_ids is not None else None
    grouped: dict[str, tuple[set[int], set[date]]] = defaultdict(lambda: (set(), set()))
    for metric_id, rp, start in cells:
        grouped[rp][0].add(metric_id)
        grouped[rp][1].add(start)
    written = 0
    levels = depths(session) if grouped else []
    for rp, (metric_ids, starts) in grouped.items():
        mids, buckets = sorted(metric_ids), sorted(starts)
        stale = [
            MetricRollup.metric_id.in_(mids),
            MetricRollup.period == rp,
            MetricRollup.period_start.in_(buckets),
        ]
        if units is not None:
            stale.append(MetricRollup.org_unit_id.in_(units))
        session.execute(delete(MetricRollup).where(*stale))
        # Own values do not depend on the tree: one statement for every unit, then the
        # units without their own, level by level from the bottom.
        written += _own(session, rp, mids, buckets, units)
        big = len(mids) * len(buckets) > _ANALYZE_AFTER
        if big and session.get_bind().dialect.name == "postgresql":
            # Fresh statistics, or the planner takes the table for empty and the per-level
            # anti-join below turns quadratic (minutes instead of seconds on a bulk rebuild).
            session.execute(text("ANALYZE metric_rollups"))
        for depth in levels:
            written += _from_children(session, rp, depth, mids, buckets, units)
    return written


def _combined(value: Any) -> Any:
    return case((MetricDefinition.aggregation == "sum", func.sum(value)), else_=func.avg(value))


def _own(
    session: Session, rp: str, mids: list[int], buckets: list[date], units: list[int] | None
) -> int:
    """Units with points of their own: the coarsest kind in each bucket."""
    P = MetricPoint
    kinds = [k for k in PERIOD_KINDS if k == rp or is_finer(k, rp)]
    bucket = period_floor_sql(session, rp, P.period_start).label("ps")
    rank = case(*((P.period == k, i) for i, k in enumerate(PERIOD_KINDS)), else_=-1)
    per_kind = (
        select(
            P.metric_id,
            P.org_unit_id,
            bucket,
            rank.label("k"),
            _combined(P.value).label("value"),
        )
        .join(MetricDefinition, MetricDefinition.id == P.metric_id)
        .where(
            P.metric_id.in_(mids),
            P.period.in_(kinds),
            P.period_start >= buckets[0],
            P.period_start < period_next(rp, buckets[-1]),
            bucket.in_(buckets),
            *([P.org_unit_id.in_(units)] if units is not None else []),
        )
        .group_by(P.metric_id, P.org_unit_id, bucket, P.period, MetricDefinition.aggregation)
        .subquery()
    )
    top = (
        func.max(per_kind.c.k)
        .over(partition_by=(per_kind.c.metric_id, per_kind.c.org_unit_id, per_kind.c.ps))
        .label("top")
    )
    ranked = select(per_kind, top).subquery()
    sel = select(
        ranked.c.metric_id, ranked.c.org_unit_id, literal(rp), ranked.c.ps, ranked.c.value
    ).where(ranked.c.k == ranked.c.top)
    result = session.connection().execute(_counted(insert(MetricRollup).from_select(_COLS, sel)))
    return _rowcount(result)


def _from_children(
    session: Session,
    rp: str,
    depth: int,
    mids: list[int],
    buckets: list[date],
    units: list[int] | None,
) -> int:
    """Units ``depth`` deep without points of their own: their children's values combined."""
    R = MetricRollup
    mine = aliased(MetricRollup)
    has_own = exists().where(
        and_(
            mine.metric_id == R.metric_id,
            mine.period == rp,
            mine.org_unit_id == OrgUnit.parent_id,
            mine.period_start == R.period_start,
        )
    )
    sel = (
        select(R.metric_id, OrgUnit.parent_id, literal(rp), R.period_start, _combined(R.value))
        .join(OrgUnit, OrgUnit.id == R.org_unit_id)
        .join(MetricDefinition, MetricDefinition.id == R.metric_id)
        .where(
            unit_depth() == depth + 1,
            OrgUnit.parent_id.is_not(None),
            R.metric_id.in_(mids),
            R.period == rp,
            R.period_start.in_(buckets),
            ~has_own,
            *([OrgUnit.parent_id.in_(units)] if units is not None else []),
        )
        .group_by(R.metric_id, OrgUnit.parent_id, R.period_start, MetricDefinition.aggregation)
    )
    result = session.connection().execute(_counted(insert(MetricRollup).from_select(_COLS, sel)))
    return _rowcount(result)


def rebuild_all(*, session: Session, metric_ids: list[int] | None = None) -> int:
    """Recompute every rollup (after a bulk load that bypassed ``upsert_points``)."""
    stmt = select(MetricPoint.metric_id, MetricPoint.period, MetricPoint.period_start).distinct()
    if metric_ids is not None:
        stmt = stmt.where(MetricPoint.metric_id.in_(metric_ids))
    return refresh_metric_rollups(
        session=session, cells=affected((m, p, s) for m, p, s in session.execute(stmt))
    )


def _rowcount(result: Any) -> int:
    return max(0, int(getattr(result, "rowcount", 0) or 0))


def _counted(stmt: Any) -> Any:
    """Keep the row count of an insert-select (PostgreSQL's cursor is closed by then)."""
    return stmt.execution_options(preserve_rowcount=True)
