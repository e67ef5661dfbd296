"""Closing the loop: alert rules, cases, praise and fix-it messages, notifications, backlog.

Records of other areas (survey responses, feedback, digital sessions) are referenced by
``(record_kind, record_id)`` without a foreign key, so this area does not depend on theirs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cxloop.store.base import Base, utcnow

CASE_STATUSES = ("new", "in_progress", "contacted", "resolved", "closed", "reopened")
PRIORITIES = ("low", "normal", "high", "urgent")
MESSAGE_KINDS = ("praise", "fix_it")
ENDPOINT_KINDS = ("email", "webhook", "chat", "github", "jira")
DELIVERY_STATUSES = ("pending", "sent", "dead")
BACKLOG_STATUSES = ("open", "exported", "in_progress", "done", "wont_do")


class AlertRule(Base):
    __tablename__ = "act_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The rule applies to records of this unit's subtree.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    condition: Mapped[str] = mapped_column(Text)
    # Segment filter: customer segment field -> allowed values, e.g. {"tier": ["gold"]}.
    segments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RuleFiring(Base):
    """One rule matched one record; unique so a re-delivered record never fires twice."""

    __tablename__ = "act_rule_firings"
    __table_args__ = (UniqueConstraint("rule_id", "record_kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("act_rules.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("act_cases.id", ondelete="SET NULL"))
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)


class RootCause(Base):
    """An entry of the admin-editable, bilingual root-cause taxonomy."""

    __tablename__ = "act_root_causes"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_ja: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)

    def display_name(self, lang: str) -> str:
        return self.name_ja if lang == "ja" and self.name_ja else self.name


class Case(Base):
    __tablename__ = "act_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("act_rules.id", ondelete="SET NULL"))
    record_kind: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    # None: the case waits in the unit's queue.
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    escalated_to_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    escalation_level: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    sla_minutes: Mapped[int | None]
    business_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    original_score: Mapped[float | None]
    resurvey_score: Mapped[float | None]
    resurvey_on_close: Mapped[bool] = mapped_column(default=False)
    resurvey_requested_at: Mapped[datetime | None]
    root_cause_id: Mapped[int | None] = mapped_column(
        ForeignKey("act_root_causes.id", ondelete="SET NULL")
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    first_contact_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseEvent(Base):
    """The case's history: notes, contacts with the customer, status changes, routing."""

    __tablename__ = "act_case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("act_cases.id", ondelete="CASCADE"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(32))  # note contact status routing escalation ...
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254), default="system")
    body: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseEscalation(Base):
    """One escalation level of one case; the unique key keeps the job from repeating it."""

    __tablename__ = "act_case_escalations"
    __table_args__ = (UniqueConstraint("case_id", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("act_cases.id", ondelete="CASCADE"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    level: Mapped[int]
    to_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    """A praise or fix-it message to a person, about a record or a case."""

    __tablename__ = "act_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    recipient_user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    sender_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cc_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    record_kind: Mapped[str | None] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    quote: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Endpoint(Base):
    """Where notifications and exports go: an e-mail address, a signed webhook, a chat
    webhook, or a GitHub / Jira project."""

    __tablename__ = "act_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(2000))  # e-mail address or base URL
    project: Mapped[str | None] = mapped_column(String(200))  # owner/repo or Jira project key
    secret: Mapped[str | None] = mapped_column(String(500))  # signing secret or API token
    username: Mapped[str | None] = mapped_column(String(200))  # Jira basic-auth user
    allow_private: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One outgoing notification with its retry state; ``dead`` ones form the dead-letter list."""

    __tablename__ = "act_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("act_endpoints.id", ondelete="SET NULL")
    )
    channel: Mapped[str] = mapped_column(String(16))  # email webhook chat
    target: Mapped[str] = mapped_column(String(2000))
    event: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    msg_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=6)
    next_attempt_at: Mapped[datetime | None]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class BacklogItem(Base):
    __tablename__ = "act_backlog_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str | None] = mapped_column(String(100))
    records: Mapped[list[str]] = mapped_column(default=list)  # "kind:id"
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    impact: Mapped[float] = mapped_column(default=0.0, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    external_system: Mapped[str | None] = mapped_column(String(16))
    external_key: Mapped[str | None] = mapped_column(String(200))
    external_url: Mapped[str | None] = mapped_column(String(2000))
    external_status: Mapped[str | None] = mapped_column(String(100))
    endpoint_id: Mapped[int | None] = mapped_column(
        ForeignKey("act_endpoints.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


Index("ix_act_deliveries_due", Delivery.status, Delivery.next_attempt_at)
Index("ix_act_cases_open_due", Case.status, Case.due_at)
