"""Surveys, their versions, programs, operational events, invitations and responses.

Employee-pulse responses live in the same table; in anonymous mode they carry no link to
the person or the invitation and only day-rounded timestamps.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.store.base import Base, utcnow

SURVEY_KINDS = ("customer", "pulse")
SURVEY_STATUSES = ("draft", "live", "closed")
PROGRAM_KINDS = ("transactional", "relationship", "pulse")
INVITATION_STATUSES = ("pending", "scheduled", "sending", "sent", "suppressed", "failed")


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="customer")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    title: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Anonymous surveys may be answered through the public link and the widget.
    anonymous: Mapped[bool] = mapped_column(default=False)
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    embed_origins: Mapped[list[str]] = mapped_column(default=list)
    current_version_id: Mapped[int | None]
    closes_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyVersion(Base):
    __tablename__ = "survey_versions"
    __table_args__ = (UniqueConstraint("survey_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    number: Mapped[int]
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyProgram(Base):
    __tablename__ = "survey_programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    event_types: Mapped[list[str]] = mapped_column(default=list)
    delay_minutes: Mapped[int] = mapped_column(default=0)
    unknown_customer: Mapped[str] = mapped_column(String(16), default="reject")
    reminder_after_days: Mapped[int | None]
    expires_after_days: Mapped[int] = mapped_column(default=14)
    every_months: Mapped[int | None]
    next_wave_at: Mapped[datetime | None]
    segment: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyEvent(Base):
    """An operational event (a call ended, an order was delivered) that may trigger a survey."""

    __tablename__ = "survey_events"
    __table_args__ = (UniqueConstraint("type", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[datetime]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("survey_programs.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_events.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    wave: Mapped[str] = mapped_column(String(64), default="")
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16), default="email")
    address: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    nonce: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    reminder_sent_at: Mapped[datetime | None]
    # Pulse invitations keep unsent answers here until submission, then forget them.
    draft: Mapped[dict[str, Any]] = mapped_column(default=dict)
    responded_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_survey_invitations_status_due", SurveyInvitation.status, SurveyInvitation.due_at)


class SurveyResponse(Base):
    __tablename__ = "survey_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("survey_versions.id"))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("survey_programs.id"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id", ondelete="SET NULL"), unique=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_events.id", ondelete="SET NULL")
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    form_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    touchpoint: Mapped[str | None] = mapped_column(String(100))
    wave: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str] = mapped_column(String(8), default="en")
    status: Mapped[str] = mapped_column(String(16), default="partial")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    nps: Mapped[int | None]
    csat: Mapped[int | None]
    ces: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    feedback_ids: Mapped[list[str]] = mapped_column(default=list)
    # Set on submission when there is a comment; a job hands it to the feedback pipeline.
    comment_pending: Mapped[bool] = mapped_column(default=False, index=True)
    # Set on completion (not pulse); a job hands the response to the listeners (alert rules,
    # scorecard) within seconds, out of the answering request.
    publish_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)


# Only the few responses still waiting for the listeners are in it. The predicate is
# written as the job's query writes it (``= 1`` on SQLite), or SQLite would not use it.
Index(
    "ix_survey_responses_publish_pending",
    SurveyResponse.id,
    sqlite_where=SurveyResponse.publish_pending == true(),
    postgresql_where=SurveyResponse.publish_pending == true(),
)


class SurveyUnsubscribe(Base):
    """A customer who asked for no more survey invitations (the link in every e-mail)."""

    __tablename__ = "survey_unsubscribes"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), unique=True
    )
    invitation_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SensitivityRuleRow(Base):
    """Suppress a customer segment for a date range, with a written reason."""

    __tablename__ = "survey_sensitivity_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    attribute: Mapped[str] = mapped_column(String(64))
    values: Mapped[list[str]] = mapped_column(default=list)
    start: Mapped[date]
    end: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    programs: Mapped[list[str]] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(254), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
