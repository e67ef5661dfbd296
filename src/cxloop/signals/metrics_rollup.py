"""Per-unit, per-period values of operational metrics, maintained after points are written.

A unit's value for a period is its own point when it has one; otherwise its children's
values combined by the metric's aggregation (sum, or mean of the children). So a region
figure entered next to its stores' figures is never counted twice, and an unbalanced tree
(a store directly under the company) still adds up. Within one unit, the period's own
points are used, else the coarsest finer points (days inside a month); coarser points are
never split. A period with no points anywhere below a unit has no row: a gap, not zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from cxloop.signals.metrics import is_finer, period_floor, period_next
from cxloop.store.models.metrics import PERIOD_KINDS, MetricDefinition, MetricPoint, MetricRollup
from cxloop.store.models.org import OrgUnit

ROLLUP_PERIODS = ("week", "month", "quarter")


def affected(points: Iterable[tuple[int, str, date]]) -> set[tuple[int, str, date]]:
    """The (metric, rollup period, bucket start) cells that points (metric, period, start)
    feed. A week crossing a month boundary feeds the month it starts in."""
    out: set[tuple[int, str, date]] = set()
    for metric_id, kind, start in points:
        for rp in ROLLUP_PERIODS:
            if kind == rp or is_finer(kind, rp):
                out.add((metric_id, rp, period_floor(rp, start)))
    return out


def refresh_metric_rollups(*, session: Session, cells: Iterable[tuple[int, str, date]]) -> int:
    """Recompute the rollups of the given cells for every unit; returns rows written."""
    tree = _tree(session)
    defs = session.execute(select(MetricDefinition.id, MetricDefinition.aggregation))
    aggregation = {i: a for i, a in defs}
    by_metric: dict[tuple[int, str], list[date]] = defaultdict(list)
    for metric_id, rp, start in set(cells):
        by_metric[(metric_id, rp)].append(start)
    written = 0
    for (metric_id, rp), starts in by_metric.items():
        starts.sort()
        kinds = [k for k in PERIOD_KINDS if k == rp or is_finer(k, rp)]
        session.execute(
            delete(MetricRollup).where(
                MetricRollup.metric_id == metric_id,
                MetricRollup.period == rp,
                MetricRollup.period_start.in_(starts),
            )
        )
        rows = session.execute(
            select(
                MetricPoint.org_unit_id,
                MetricPoint.period,
                MetricPoint.period_start,
                MetricPoint.value,
            ).where(
                MetricPoint.metric_id == metric_id,
                MetricPoint.period.in_(kinds),
                MetricPoint.period_start >= starts[0],
                MetricPoint.period_start < period_next(rp, starts[-1]),
            )
        )
        # bucket -> unit -> kind -> values
        own: dict[date, dict[int, dict[str, list[float]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        wanted = set(starts)
        for unit_id, kind, start, value in rows:
            bucket = period_floor(rp, start)
            if bucket in wanted:
                own[bucket][unit_id][kind].append(float(value))
        agg = aggregation.get(metric_id, "sum")
        out: list[dict[str, object]] = []
        for bucket, units in own.items():
            values = _combine(tree, units, agg)
            out.extend(
                {
                    "metric_id": metric_id,
                    "org_unit_id": uid,
                    "period": rp,
                    "period_start": bucket,
                    "value": v,
                }
                for uid, v in values.items()
            )
        if out:
            session.execute(insert(MetricRollup), out)
        written += len(out)
    return written


def _tree(session: Session) -> list[tuple[int, int | None]]:
    """(unit, parent) deepest first, so children are done before their parent."""
    rows = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.path)).all()
    rows = sorted(rows, key=lambda r: -r[2].count("/"))
    return [(r[0], r[1]) for r in rows]


def _combine(
    tree: list[tuple[int, int | None]], units: dict[int, dict[str, list[float]]], agg: str
) -> dict[int, float]:
    values: dict[int, float] = {}
    kids: dict[int, list[float]] = defaultdict(list)
    for uid, parent in tree:
        if uid in units:
            by_kind = units[uid]
            kind = max(by_kind, key=PERIOD_KINDS.index)
            vals = by_kind[kind]
            values[uid] = sum(vals) if agg == "sum" else sum(vals) / len(vals)
        elif kids.get(uid):
            vals = kids[uid]
            values[uid] = sum(vals) if agg == "sum" else sum(vals) / len(vals)
        if uid in values and parent is not None:
            kids[parent].append(values[uid])
    return values


def rebuild_all(*, session: Session, metric_ids: list[int] | None = None) -> int:
    """Recompute every rollup (after a bulk load that bypassed ``upsert_points``)."""
    stmt = select(MetricPoint.metric_id, MetricPoint.period, MetricPoint.period_start).distinct()
    if metric_ids is not None:
        stmt = stmt.where(MetricPoint.metric_id.in_(metric_ids))
    return refresh_metric_rollups(
        session=session, cells=affected((m, p, s) for m, p, s in session.execute(stmt))
    )
