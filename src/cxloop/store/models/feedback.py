"""Unstructured feedback: records with their enrichment, the org's theme taxonomy, jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cxloop.store.base import Base, utcnow

FEEDBACK_SOURCES = (
    "call_transcript",
    "chat_transcript",
    "agent_note",
    "crm_note",
    "email",
    "social_post",
    "review",
    "complaint_letter",
    "roundtable_note",
    "advisory_feedback",
    "survey_comment",
    "other",
)
TRANSCRIPT_SOURCES = frozenset({"call_transcript", "chat_transcript"})


class Feedback(Base):
    """One piece of customer text, its context and what the analyzer found in it."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_feedback_org_unit_id_occurred_at", "org_unit_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    source: Mapped[str] = mapped_column(String(32))
    # Given by the sender, or derived from the content when absent: the idempotency key.
    external_id: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)  # as received; never shown (may hold PII)
    display_text: Mapped[str] = mapped_column(Text)  # PII-masked; theme spans index into it
    rating: Mapped[float | None] = mapped_column(Float)
    rating_scale: Mapped[int | None]
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    touchpoint: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(32))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_name: Mapped[str | None] = mapped_column(String(200))
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Enrichment (the customer's side of a transcript; the agent's in agent_*).
    language: Mapped[str] = mapped_column(String(8), index=True)
    sentiment_label: Mapped[str] = mapped_column(String(16), index=True)
    sentiment_score: Mapped[float] = mapped_column(Float)
    agent_sentiment_label: Mapped[str | None] = mapped_column(String(16))
    agent_sentiment_score: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(default=list)
    analyzer_mode: Mapped[str] = mapped_column(String(16))
    taxonomy_version: Mapped[int] = mapped_column(default=0)
    analyzed_at: Mapped[datetime] = mapped_column(default=utcnow)

    themes: Mapped[list[FeedbackTheme]] = relationship(
        back_populates="feedback",
        cascade="all, delete-orphan",
        lazy="selectin",
        passive_deletes=True,
        order_by="FeedbackTheme.id",
    )


class FeedbackTheme(Base):
    """A theme found in a record: a row each, so that filtering by theme is a query."""

    __tablename__ = "feedback_themes"
    __table_args__ = (Index("ix_feedback_themes_theme_id_feedback_id", "theme_id", "feedback_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    theme_id: Mapped[str] = mapped_column(String(64))
    speaker: Mapped[str] = mapped_column(String(16), default="customer")  # or "agent"
    score: Mapped[float] = mapped_column(Float)
    spans: Mapped[list[Any]] = mapped_column(
        JSON, default=list
    )  # [[start, end], ...] in display_text

    feedback: Mapped[Feedback] = relationship(back_populates="themes")


class ThemeDefinition(Base):
    """One theme of the organisation's taxonomy, seeded from the engine's default."""

    __tablename__ = "feedback_theme_defs"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str] = mapped_column(String(200))
    parent_key: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"en": [...], "ja": [...]}
    phrases: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(16), default="default")  # default/custom/discovered
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaxonomyState(Base):
    """A single row: the taxonomy's version, raised by every edit."""

    __tablename__ = "feedback_taxonomy"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(200))


class FeedbackJob(Base):
    """A background run over many records (re-analysis, discovery) and its progress."""

    __tablename__ = "feedback_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reanalyze / discover
    status: Mapped[str] = mapped_column(String(16), default="queued")
    processed: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class ThemeCluster(Base):
    """A group of records no theme explains, found by a discovery job."""

    __tablename__ = "feedback_clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("feedback_jobs.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    terms: Mapped[list[str]] = mapped_column(default=list)
    size: Mapped[int]
    examples: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"feedback_id", "text"}]
    promoted_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
