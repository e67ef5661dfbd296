"""Digital body language: tracked sites, raw tracker batches, sessions, signals, page scores.

Raw events are kept as one row per tracker batch holding the JSON as received (append-only,
deduplicated on the batch id): one insert per POST and no re-encoding keep the collector
fast, and scoring reads a session's few batches back in one query.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.store.base import Base, utcnow

SESSION_STATUSES = ("open", "closed")


class DigitalSite(Base):
    """A website or app instrumented with tracker.js; its public key names it in batches."""

    __tablename__ = "digital_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(default=list)
    thresholds: Mapped[dict[str, Any]] = mapped_column(default=dict)
    consent_required: Mapped[bool] = mapped_column(default=False)
    frustration_dxs: Mapped[float] = mapped_column(default=6.0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigitalSession(Base):
    """One visit as the tracker numbered it; scored once 30 minutes pass without events."""

    __tablename__ = "digital_sessions"
    __table_args__ = (UniqueConstraint("site_id", "session_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("digital_sites.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    session_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # server receive time minus the client's sent_at on the first batch: maps client ms to UTC
    clock_offset_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    first_ts: Mapped[int] = mapped_column(BigInteger, default=0)
    last_ts: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(default=0)
    batches: Mapped[int] = mapped_column(default=0)
    entry_url: Mapped[str] = mapped_column(String(2048), default="")
    customer_ref: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    scored_at: Mapped[datetime | None]
    dxs: Mapped[float | None]
    pillars: Mapped[dict[str, Any]] = mapped_column(default=dict)
    engagement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    pages: Mapped[int] = mapped_column(default=0)
    signal_count: Mapped[int] = mapped_column(default=0)
    frustrated: Mapped[bool] = mapped_column(default=False)


Index("ix_digital_sessions_status_seen", DigitalSession.status, DigitalSession.last_seen_at)
Index("ix_digital_sessions_site_started", DigitalSession.site_id, DigitalSession.started_at)


class DigitalBatch(Base):
    """One accepted tracker POST: the batch JSON as received (minus events dropped for their
    time), so the collector stores it without re-encoding; read back with ``json.loads``."""

    __tablename__ = "digital_batches"
    __table_args__ = (UniqueConstraint("site_id", "batch_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("digital_sites.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(
        ForeignKey("digital_sessions.id", ondelete="CASCADE"), index=True
    )
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    batch_key: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[int] = mapped_column(BigInteger)
    n_events: Mapped[int]
    body: Mapped[str] = mapped_column(Text)


class DigitalSignal(Base):
    """A detected frustration moment of a scored session."""

    __tablename__ = "digital_signals"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("digital_sessions.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("digital_sites.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    at_ms: Mapped[int] = mapped_column(BigInteger)
    url: Mapped[str] = mapped_column(String(2048))
    selector: Mapped[str] = mapped_column(String(512), default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


Index("ix_digital_signals_type_session", DigitalSignal.type, DigitalSignal.session_id)


class DigitalPageScore(Base):
    """Every view of one URL within a scored session, scored together."""

    __tablename__ = "digital_page_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("digital_sessions.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("digital_sites.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    started_at: Mapped[datetime]
    position: Mapped[int] = mapped_column(default=0)
    url: Mapped[str] = mapped_column(String(2048))
    views: Mapped[int] = mapped_column(default=1)
    dxs: Mapped[float]
    active_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    max_scroll_depth: Mapped[float] = mapped_column(default=0.0)
    signals: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DigitalCollectCount(Base):
    """Collector outcomes per site and day: accepted, duplicate, and each rejection reason."""

    __tablename__ = "digital_collect_counts"
    __table_args__ = (UniqueConstraint("site_id", "day", "outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("digital_sites.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    day: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(48))
    batches: Mapped[int] = mapped_column(BigInteger, default=0)
    events: Mapped[int] = mapped_column(BigInteger, default=0)


class DigitalUnknownKeyCount(Base):
    """Collector rejections that name no active site, per day: the site key the batch gave
    ("" when none could be read) and the reason. Kept in memory by the collector and
    written in batches, so a flood of wrong keys costs no write per request."""

    __tablename__ = "digital_unknown_key_counts"
    __table_args__ = (UniqueConstraint("site_key", "day", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_key: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(48))
    batches: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
