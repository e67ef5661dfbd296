"""Operational and financial metric series, and the per-unit-per-day rollups of CX figures."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.store.base import Base, utcnow

METRIC_UNITS = (
    "count",
    "currency",
    "JPY",
    "USD",
    "EUR",
    "percent",
    "seconds",
    "minutes",
    "hours",
    "days",
    "ratio",
    "score",
)
DIRECTIONS = ("higher", "lower")
AGGREGATIONS = ("sum", "mean")
PERIOD_KINDS = ("day", "week", "month", "quarter", "year")


class MetricDefinition(Base):
    """What a metric measures, in which unit, and which way is better.

    ``org_unit_id`` is the unit that owns the definition (usually the company); the catalogue
    itself is readable by anyone with ``metrics:read``, the points are scoped.
    """

    __tablename__ = "metric_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    # How values combine across org units and into longer periods.
    aggregation: Mapped[str] = mapped_column(String(8), default="sum")
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetricPoint(Base):
    """One value of a metric for one org unit and period; a missing row is a gap."""

    __tablename__ = "metric_points"
    __table_args__ = (
        UniqueConstraint("metric_id", "org_unit_id", "period", "period_start"),
        Index("ix_metric_points_series", "metric_id", "period", "period_start", "org_unit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric_definitions.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[float]
    source: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class MetricRollup(Base):
    """A metric's value for one unit and scorecard period, built from the points below it.

    Maintained after every write of points (``signals.metrics_rollup``): the unit's own
    point when it has one, else its children's values combined by the aggregation.
    """

    __tablename__ = "metric_rollups"
    __table_args__ = (UniqueConstraint("metric_id", "period", "org_unit_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric_definitions.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[float]


class CxRollup(Base):
    """Sufficient statistics of one CX figure for one unit, day and segment.

    ``dim`` is "" for the unit's total, else a customer segment field (customer_type, tier,
    region, industry) with ``dim_value``. ``a``/``b`` are category counts (promoters and
    detractors for NPS; successes for shares), ``s``/``ss`` the sum and sum of squares of
    values (for means). The scorecard reads these, never the raw responses.
    """

    __tablename__ = "cx_rollups"
    __table_args__ = (
        UniqueConstraint("metric", "org_unit_id", "day", "dim", "dim_value"),
        Index("ix_cx_rollups_read", "metric", "dim", "day", "org_unit_id"),
        # The period totals are rebuilt from a range of days across every metric and dim.
        Index("ix_cx_rollups_day", "day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    dim: Mapped[str] = mapped_column(String(32), default="")
    dim_value: Mapped[str] = mapped_column(String(64), default="")
    n: Mapped[int] = mapped_column(default=0)
    a: Mapped[int] = mapped_column(default=0)
    b: Mapped[int] = mapped_column(default=0)
    s: Mapped[float] = mapped_column(default=0.0)
    ss: Mapped[float] = mapped_column(default=0.0)


class CxPeriodRollup(Base):
    """Subtree totals of one CX figure for one unit, period and segment.

    The sum of ``cx_rollups`` over the period's days and over every unit in the subtree of
    ``org_unit_id`` (the unit itself included), kept per ``grain`` (week, month, quarter) by
    ``engage.cx_periods``. A scorecard reads one row per period shown, however many stores
    and days lie below. The unique key (in read order) is also the read index.
    """

    __tablename__ = "cx_period_rollups"
    __table_args__ = (
        UniqueConstraint(
            "metric",
            "grain",
            "dim",
            "dim_value",
            "org_unit_id",
            "period_start",
            name="uq_cx_period_rollups_key",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(32))
    grain: Mapped[str] = mapped_column(String(8))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    dim: Mapped[str] = mapped_column(String(32), default="")
    dim_value: Mapped[str] = mapped_column(String(64), default="")
    n: Mapped[int] = mapped_column(default=0)
    a: Mapped[int] = mapped_column(default=0)
    b: Mapped[int] = mapped_column(default=0)
    s: Mapped[float] = mapped_column(default=0.0)
    ss: Mapped[float] = mapped_column(default=0.0)


class CxDirtyDay(Base):
    """A unit's calendar day whose CX rollups are stale: records were stored for it since
    the last refresh. Marked in the storing transaction, cleared by the refresh job."""

    __tablename__ = "cx_dirty_days"
    __table_args__ = (UniqueConstraint("org_unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)
