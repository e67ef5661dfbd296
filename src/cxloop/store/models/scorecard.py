"""The KPI scorecard: chosen KPIs, their targets, commentary, and digest subscriptions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.store.base import Base, utcnow


class Kpi(Base):
    """A metric chosen for the scorecard of a unit (and, by inheritance, its subtree).

    ``metric`` is ``cx:<name>`` (computed from responses / feedback / digital) or
    ``metric:<key>`` (an operational or financial series).
    """

    __tablename__ = "kpis"
    __table_args__ = (UniqueConstraint("org_unit_id", "metric"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    metric: Mapped[str] = mapped_column(String(80))
    label: Mapped[str | None] = mapped_column(String(200))
    label_ja: Mapped[str | None] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(default=1)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KpiTarget(Base):
    """Target and off-track threshold of a KPI for one unit and period."""

    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("kpi_id", "org_unit_id", "period", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    target: Mapped[float]
    # Beyond this (below for higher-is-better, above for lower) the KPI is off track;
    # between it and the target, at risk. None: no at-risk band.
    threshold: Mapped[float | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KpiComment(Base):
    """One version of the commentary on a KPI for a unit and period; edits add versions."""

    __tablename__ = "kpi_comments"
    __table_args__ = (
        UniqueConstraint("kpi_id", "org_unit_id", "period", "period_start", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[int] = mapped_column(ForeignKey("kpis.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    period: Mapped[str] = mapped_column(String(8))
    period_start: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(default=1)
    why: Mapped[str] = mapped_column(String(4000), default="")
    action: Mapped[str] = mapped_column(String(4000), default="")
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestSubscription(Base):
    """A group that receives the scorecard digest of a unit on a cadence."""

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(16), default="weekly")
    member_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    last_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
