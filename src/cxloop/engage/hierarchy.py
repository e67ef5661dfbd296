"""Org-unit hierarchy for the scorecard: a unit's ancestors and children, and the
operational metric values of a unit (see ``signals.metrics_rollup`` for how they add up)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.metrics import MetricRollup
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


def metric_values(
    *,
    session: Session,
    metric_id: int,
    unit_id: int,
    granularity: str,
    starts: list[date],
) -> list[float | None]:
    """The unit's value in each period beginning at ``starts``; ``None`` marks a gap.

    Reads the rollups kept by ``signals.metrics_rollup`` (one indexed row per period)."""
    rows = session.execute(
        select(MetricRollup.period_start, MetricRollup.value).where(
            MetricRollup.metric_id == metric_id,
            MetricRollup.period == granularity,
            MetricRollup.org_unit_id == unit_id,
            MetricRollup.period_start >= starts[0],
            MetricRollup.period_start <= starts[-1],
        )
    )
    found = {start: float(value) for start, value in rows}
    return [found.get(s) for s in starts]
