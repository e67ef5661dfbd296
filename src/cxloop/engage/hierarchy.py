"""Org-unit hierarchy for the scorecard: a unit's ancestors and children, and operational
metric values of a unit built from the nearest level of the tree that has data.

A unit's value for a period is its own point when it has one; otherwise the points of the
shallowest level below it that has points, combined by the metric's aggregation (sum or
mean). A point entered for a region and for its stores is therefore never counted twice.
Points of a finer period (days inside a month) are rolled up the same way when the period
itself has no points; coarser points are never split.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.signals.metrics import is_finer, period_floor
from cxloop.store.models.metrics import PERIOD_KINDS, MetricPoint
from cxloop.store.models.org import OrgUnit


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    name_ja: str | None
    kind: str
    path: str
    parent_id: int | None

    def display(self, lang: str) -> str:
        return (self.name_ja if lang == "ja" and self.name_ja else self.name) or self.code

    @property
    def ancestor_ids(self) -> list[int]:
        """Own id first, then the parent, up to the root."""
        return [int(x) for x in reversed(self.path.strip("/").split("/")) if x]


def unit_ref(u: OrgUnit) -> UnitRef:
    return UnitRef(u.id, u.code, u.name, u.name_ja, u.kind, u.path, u.parent_id)


def get_unit(session: Session, unit_id: int) -> UnitRef | None:
    u = session.get(OrgUnit, unit_id)
    return unit_ref(u) if u is not None else None


def children(session: Session, unit_id: int) -> list[UnitRef]:
    rows = session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit_id).order_by(OrgUnit.code)
    )
    return [unit_ref(u) for u in rows]


def ancestors(session: Session, unit: UnitRef) -> list[UnitRef]:
    """From the root down to ``unit``'s parent (the breadcrumb)."""
    ids = unit.ancestor_ids[1:]
    rows = {u.id: unit_ref(u) for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [rows[i] for i in reversed(ids) if i in rows]


def _depth() -> Any:
    return func.length(OrgUnit.path) - func.length(func.replace(OrgUnit.path, "/", ""))


def metric_values(
    *,
    session: Session,
    metric_id: int,
    aggregation: str,
    unit_path: str,
    granularity: str,
    starts: list[date],
    end: date,
) -> list[float | None]:
    """The unit's value in each period beginning at ``starts``; ``None`` marks a gap."""
    kinds = [k for k in PERIOD_KINDS if k == granularity or is_finer(k, granularity)]
    depth = _depth()
    stmt = (
        select(
            MetricPoint.period,
            MetricPoint.period_start,
            depth,
            func.count(),
            func.sum(MetricPoint.value),
        )
        .join(OrgUnit, OrgUnit.id == MetricPoint.org_unit_id)
        .where(
            MetricPoint.metric_id == metric_id,
            MetricPoint.period.in_(kinds),
            MetricPoint.period_start >= starts[0],
            MetricPoint.period_start < end,
            OrgUnit.path.startswith(unit_path),
        )
        .group_by(MetricPoint.period, MetricPoint.period_start, depth)
    )
    # bucket -> kind -> depth -> [count, sum]
    cells: dict[date, dict[str, dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    )
    index = {s: i for i, s in enumerate(starts)}
    for kind, start, d, n, total in session.execute(stmt):
        bucket = period_floor(granularity, start)
        if bucket not in index:
            continue
        cell = cells[bucket][kind][int(d)]
        cell[0] += n
        cell[1] += float(total)
    out: list[float | None] = []
    for s in starts:
        by_kind = cells.get(s)
        if not by_kind:
            out.append(None)
            continue
        # The period's own points, else the coarsest finer period that has points.
        kind = max(by_kind, key=lambda k: PERIOD_KINDS.index(k))
        levels = by_kind[kind]
        n, total = levels[min(levels)]
        out.append(total if aggregation == "sum" else total / n)
    return out
