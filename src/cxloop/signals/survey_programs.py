"""Survey programs (transactional, relationship, employee pulse) and sensitivity rules,
and the contact policy each program applies."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.contact_policy import ContactPolicy, FrequencyCap, QuietHours, SensitivityRule
from cxloop.store.models.surveys import SensitivityRuleRow, Survey, SurveyProgram

# Operational events a transactional program can listen to.
EVENT_TYPES = (
    "call_ended",
    "chat_ended",
    "order_delivered",
    "order_returned",
    "store_visit",
    "case_closed",
    "account_opened",
    "appointment_completed",
)
SEGMENT_ATTRIBUTES = ("customer_type", "industry", "tier", "region", "language")
_KEY = r"^[a-z0-9][a-z0-9_-]{1,63}$"


class CapConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_invitations: int = Field(ge=1, le=100)
    window_days: int = Field(ge=1, le=3660)
    scope: Literal["global", "survey"] = "global"


class PolicyConfig(BaseModel):
    """A program's contact policy as stored (JSON) and sent over the API."""

    model_config = ConfigDict(extra="forbid")
    caps: list[CapConfig] = Field(default_factory=list, max_length=10)
    min_days_between: int | None = Field(None, ge=1, le=3660)
    quiet_start: time | None = None
    quiet_end: time | None = None
    sample_percent: float = Field(100.0, ge=0.0, le=100.0)

    @model_validator(mode="after")
    def _quiet_pair(self) -> PolicyConfig:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both quiet_start and quiet_end")
        if self.quiet_start is not None and self.quiet_start == self.quiet_end:
            raise ValueError("quiet hours need different start and end")
        return self


class ProgramCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["transactional", "relationship", "pulse"]
    survey_id: int
    org_unit_id: int
    event_types: list[str] = Field(default_factory=list, max_length=20)
    delay_minutes: int = Field(0, ge=0, le=60 * 24 * 60)
    unknown_customer: Literal["create", "reject"] = "reject"
    reminder_after_days: int | None = Field(None, ge=1, le=60)
    expires_after_days: int = Field(14, ge=1, le=365)
    every_months: int | None = Field(None, ge=1, le=36)
    next_wave_at: datetime | None = None
    segment: dict[str, list[str]] = Field(default_factory=dict)
    policy: PolicyConfig = Field(default_factory=lambda: PolicyConfig.model_validate({}))
    active: bool = True

    @model_validator(mode="after")
    def _by_kind(self) -> ProgramCreate:
        unknown = [t for t in self.event_types if t not in EVENT_TYPES]
        if unknown:
            raise ValueError(f"event_types: unknown event type {unknown[0]!r}")
        if self.kind == "transactional" and not self.event_types:
            raise ValueError("event_types: a transactional program needs at least one event type")
        bad = [a for a in self.segment if a not in SEGMENT_ATTRIBUTES]
        if bad:
            raise ValueError(
                f"segment: unknown attribute {bad[0]!r}; use {', '.join(SEGMENT_ATTRIBUTES)}"
            )
        return self


class ProgramUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    active: bool | None = None
    delay_minutes: int | None = Field(None, ge=0, le=60 * 24 * 60)
    unknown_customer: Literal["create", "reject"] | None = None
    reminder_after_days: int | None = Field(None, ge=1, le=60)
    expires_after_days: int | None = Field(None, ge=1, le=365)
    every_months: int | None = Field(None, ge=1, le=36)
    next_wave_at: datetime | None = None
    segment: dict[str, list[str]] | None = None
    policy: PolicyConfig | None = None


class ProgramError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def create_program(*, session: Session, data: ProgramCreate) -> SurveyProgram:
    survey = session.get(Survey, data.survey_id)
    if survey is None:
        raise ProgramError("survey_id", f"survey {data.survey_id} not found")
    if (data.kind == "pulse") != (survey.kind == "pulse"):
        raise ProgramError("kind", "pulse programs run pulse surveys, and only them")
    if session.scalar(select(SurveyProgram.id).where(SurveyProgram.key == data.key)):
        raise ProgramError("key", f"a program with key {data.key!r} already exists")
    program = SurveyProgram(**data.model_dump(exclude={"policy"}))
    program.policy = data.policy.model_dump(mode="json")
    session.add(program)
    session.flush()
    return program


def update_program(*, session: Session, program: SurveyProgram, data: ProgramUpdate) -> None:
    for name, value in data.model_dump(exclude_unset=True, mode="json").items():
        if name == "next_wave_at":
            program.next_wave_at = data.next_wave_at
        elif value is not None or name == "reminder_after_days":
            setattr(program, name, value)
    session.flush()


class SensitivityRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_unit_id: int
    name: str = Field(min_length=1, max_length=200)
    attribute: str = Field(min_length=1, max_length=64)
    values: list[str] = Field(min_length=1, max_length=50)
    start: date
    end: date
    reason: str = Field(min_length=3, max_length=2000)
    programs: list[str] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _dates(self) -> SensitivityRuleCreate:
        if self.end < self.start:
            raise ValueError("end: the rule ends before it starts")
        if self.attribute not in SEGMENT_ATTRIBUTES and not self.attribute.startswith("attr."):
            raise ValueError(
                f"attribute: use one of {', '.join(SEGMENT_ATTRIBUTES)} or attr.<name>"
            )
        return self


def create_sensitivity_rule(
    *, session: Session, data: SensitivityRuleCreate, created_by: str
) -> SensitivityRuleRow:
    row = SensitivityRuleRow(**data.model_dump(), created_by=created_by)
    session.add(row)
    session.flush()
    return row


def active_sensitivity_rules(session: Session, on: date | None = None) -> list[SensitivityRule]:
    """Rules switched on (and, given ``on``, not yet over), as engine rules."""
    stmt = select(SensitivityRuleRow).where(SensitivityRuleRow.active.is_(True))
    if on is not None:
        stmt = stmt.where(SensitivityRuleRow.end >= on)
    return [
        SensitivityRule(
            name=r.name,
            attribute=r.attribute,
            values=tuple(r.values),
            start=r.start,
            end=r.end,
            reason=r.reason,
            programs=tuple(r.programs),
        )
        for r in session.scalars(stmt.order_by(SensitivityRuleRow.id)).all()
    ]


def contact_policy(
    program: SurveyProgram, survey_key: str, rules: list[SensitivityRule]
) -> ContactPolicy:
    """The engine policy of ``program``; survey caps are keyed by the survey key."""
    cfg = PolicyConfig.model_validate(program.policy or {})
    quiet = (
        QuietHours(cfg.quiet_start, cfg.quiet_end)
        if cfg.quiet_start is not None and cfg.quiet_end is not None
        else None
    )
    caps = tuple(
        FrequencyCap(c.max_invitations, c.window_days, None if c.scope == "global" else survey_key)
        for c in cfg.caps
    )
    return ContactPolicy(
        caps=caps,
        min_days_between=cfg.min_days_between,
        quiet_hours=quiet,
        sample_percent=cfg.sample_percent,
        sensitivity_rules=tuple(rules),
    )
