"""Operational and financial metrics: definitions, periods and idempotent point upserts."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from cxloop.signals.listeners import publish
from cxloop.store.models.metrics import (
    AGGREGATIONS,
    DIRECTIONS,
    METRIC_UNITS,
    PERIOD_KINDS,
    MetricDefinition,
    MetricPoint,
)

_ORDER = {k: i for i, k in enumerate(PERIOD_KINDS)}

log = logging.getLogger(__name__)


class MetricError(ValueError):
    """Bad metric input; ``field`` names what was wrong, ``row`` where (1-based)."""

    def __init__(self, message: str, *, field: str | None = None, row: int | None = None) -> None:
        super().__init__(f"row {row}: {message}" if row is not None else message)
        self.field = field
        self.row = row


# --- periods ----------------------------------------------------------------------------


def period_floor(kind: str, d: date) -> date:
    """The first day of the ``kind`` period containing ``d`` (weeks start on Monday)."""
    if kind == "day":
        return d
    if kind == "week":
        return d - timedelta(days=d.weekday())
    if kind == "month":
        return d.replace(day=1)
    if kind == "quarter":
        return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    if kind == "year":
        return date(d.year, 1, 1)
    raise MetricError(f"period must be one of {', '.join(PERIOD_KINDS)}", field="period")


def period_next(kind: str, start: date) -> date:
    """The start of the period after the one beginning at ``start``."""
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    m = start.month - 1 + months
    return date(start.year + m // 12, m % 12 + 1, 1)


def period_back(kind: str, start: date, count: int) -> list[date]:
    """``count`` consecutive period starts ending with the one at ``start``, oldest first."""
    out = [start]
    for _ in range(count - 1):
        prev = period_floor(kind, out[0] - timedelta(days=1))
        out.insert(0, prev)
    return out


def is_finer(kind: str, than: str) -> bool:
    return _ORDER[kind] < _ORDER[than]


# --- definitions ------------------------------------------------------------------------


class MetricDefinitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_.-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    name_ja: str | None = Field(None, max_length=200)
    unit: str
    direction: str = "higher"
    aggregation: str = "sum"
    description: str = Field("", max_length=2000)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        if v not in METRIC_UNITS:
            raise ValueError(f"unknown unit {v!r}; known: {', '.join(METRIC_UNITS)}")
        return v

    @field_validator("direction")
    @classmethod
    def _direction(cls, v: str) -> str:
        if v not in DIRECTIONS:
            raise ValueError("direction must be 'higher' or 'lower' (which is better)")
        return v

    @field_validator("aggregation")
    @classmethod
    def _aggregation(cls, v: str) -> str:
        if v not in AGGREGATIONS:
            raise ValueError("aggregation must be 'sum' or 'mean'")
        return v


def upsert_definition(
    *, session: Session, data: MetricDefinitionCreate, owner_unit_id: int
) -> tuple[MetricDefinition, bool]:
    """Create the definition or update the one with the same key; ``(row, created)``."""
    row = session.scalar(select(MetricDefinition).where(MetricDefinition.key == data.key))
    created = row is None
    if row is None:
        row = MetricDefinition(key=data.key, org_unit_id=owner_unit_id)
        session.add(row)
    for name in ("name", "name_ja", "unit", "direction", "aggregation", "description"):
        setattr(row, name, getattr(data, name))
    session.flush()
    return row, created


def definitions_by_key(
    session: Session, keys: Iterable[str] | None = None
) -> dict[str, MetricDefinition]:
    stmt = select(MetricDefinition)
    if keys is not None:
        stmt = stmt.where(MetricDefinition.key.in_(list(keys)))
    return {d.key: d for d in session.scalars(stmt)}


# --- points -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PointIn:
    """A validated point: metric and unit already resolved to ids."""

    metric_id: int
    org_unit_id: int
    period: str
    period_start: date
    value: float
    row: int | None = None


@dataclass
class UpsertReport:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: list[str] = field(default_factory=list)


def check_point(period: str, period_start: date, value: float, *, row: int | None = None) -> None:
    if period not in PERIOD_KINDS:
        raise MetricError(
            f"period {period!r} is not one of {', '.join(PERIOD_KINDS)}", field="period", row=row
        )
    if period_floor(period, period_start) != period_start:
        raise MetricError(
            f"period_start {period_start.isoformat()} is not the first day of a {period}",
            field="period_start",
            row=row,
        )
    if not math.isfinite(value):
        raise MetricError("value must be a finite number", field="value", row=row)


def upsert_points(*, session: Session, points: list[PointIn], source: str = "") -> UpsertReport:
    """Insert or update points keyed on (metric, unit, period, start); the last of duplicates
    in ``points`` wins and each duplicate is named in the report."""
    report = UpsertReport()
    latest: dict[tuple[int, int, str, date], PointIn] = {}
    for p in points:
        check_point(p.period, p.period_start, p.value, row=p.row)
        key = (p.metric_id, p.org_unit_id, p.period, p.period_start)
        if key in latest:
            first = latest[key].row
            where = f"row {p.row} repeats row {first}" if p.row else "a point repeats another"
            report.duplicates.append(
                f"{where} (same metric, unit, period {p.period} {p.period_start}); "
                "the later value is kept"
            )
        latest[key] = p
    keys = list(latest)
    existing: dict[tuple[int, int, str, date], MetricPoint] = {}
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        cols = (
            MetricPoint.metric_id,
            MetricPoint.org_unit_id,
            MetricPoint.period,
            MetricPoint.period_start,
        )
        for found in session.scalars(select(MetricPoint).where(tuple_(*cols).in_(chunk))):
            existing[(found.metric_id, found.org_unit_id, found.period, found.period_start)] = found
    changed: list[PointIn] = []
    for key, p in latest.items():
        row = existing.get(key)
        if row is None or row.value != p.value:
            changed.append(p)
        if row is None:
            session.add(
                MetricPoint(
                    metric_id=p.metric_id,
                    org_unit_id=p.org_unit_id,
                    period=p.period,
                    period_start=p.period_start,
                    value=p.value,
                    source=source,
                )
            )
            report.inserted += 1
        elif row.value != p.value:
            row.value = p.value
            row.source = source
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    from cxloop.signals.metrics_rollup import affected, refresh_metric_rollups
    from cxloop.signals.metrics_sql import with_ancestors

    # Only the written units and the units above them: a late point for an old month
    # rebuilds that month's rollups along its branch, nothing else.
    refresh_metric_rollups(
        session=session,
        cells=affected((k[0], k[2], k[3]) for k in latest),
        unit_ids=with_ancestors(session, {k[1] for k in latest}),
    )
    publish(session, "metric_point", changed)
    return report
