"""Operational events (a call ended, an order was delivered) that trigger transactional
surveys after each program's delay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.customers import CustomerCreate, IdentityIn, find_by_identity, upsert_customer
from cxloop.signals.survey_invitations import new_invitation, valid_zone
from cxloop.signals.survey_programs import EVENT_TYPES
from cxloop.store.models.customers import Customer
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import Survey, SurveyEvent, SurveyInvitation, SurveyProgram


class EventCustomer(BaseModel):
    """Who the event was about: identities to find them, details for a new customer."""

    model_config = ConfigDict(extra="forbid")
    identities: list[IdentityIn] = Field(min_length=1, max_length=10)
    name: str | None = Field(None, max_length=200)
    language: str | None = Field(None, max_length=8)
    timezone: str | None = Field(None, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None and not valid_zone(v):
            raise ValueError(f"unknown time zone {v[:64]!r}; use an IANA name like Asia/Tokyo")
        return v


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=32)
    org_unit_id: int
    customer: EventCustomer
    occurred_at: datetime
    touchpoint: str | None = Field(None, max_length=100)
    external_id: str | None = Field(None, min_length=1, max_length=200)
    attributes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in EVENT_TYPES:
            raise ValueError(f"unknown event type {v[:40]!r}; use one of {', '.join(EVENT_TYPES)}")
        return v

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("needs a time zone offset, e.g. 2026-05-01T10:00:00+09:00")
        return v.astimezone(UTC)


class EventError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class EventResult:
    event: SurveyEvent
    invitations: list[SurveyInvitation] = field(default_factory=list)
    duplicate: bool = False
    customer_created: bool = False


def matching_programs(session: Session, event_type: str, unit: OrgUnit) -> list[SurveyProgram]:
    """Active transactional programs for this event type whose unit contains ``unit``."""
    rows = session.execute(
        select(SurveyProgram, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == SurveyProgram.org_unit_id)
        .join(Survey, Survey.id == SurveyProgram.survey_id)
        .where(
            SurveyProgram.kind == "transactional",
            SurveyProgram.active.is_(True),
            Survey.status == "live",
        )
        .order_by(SurveyProgram.id)
    ).all()
    return [p for p, path in rows if event_type in p.event_types and unit.path.startswith(path)]


def _find_customer(session: Session, ref: EventCustomer) -> Customer | None:
    for ident in ref.identities:
        found = find_by_identity(session, ident.kind, ident.value)
        if found is not None:
            return found
    return None


def record_event(
    *,
    session: Session,
    data: EventCreate,
    default_language: str,
    programs_cache: dict[tuple[str, int], list[SurveyProgram]] | None = None,
) -> EventResult:
    """Store the event and create a pending invitation per matching program (idempotent).

    A bulk import passes one ``programs_cache`` for all its rows: programs do not change
    while it runs, and looking them up again for every row was a fifth of its time."""
    if data.external_id is not None:
        existing = session.scalar(
            select(SurveyEvent).where(
                SurveyEvent.type == data.type, SurveyEvent.external_id == data.external_id
            )
        )
        if existing is not None:
            invs = session.scalars(
                select(SurveyInvitation).where(SurveyInvitation.event_id == existing.id)
            ).all()
            return EventResult(existing, list(invs), duplicate=True)
    unit = session.get(OrgUnit, data.org_unit_id)
    if unit is None:
        raise EventError("org_unit_id", f"org unit {data.org_unit_id} not found")
    if programs_cache is None:
        programs = matching_programs(session, data.type, unit)
    else:
        key = (data.type, unit.id)
        if key not in programs_cache:
            programs_cache[key] = matching_programs(session, data.type, unit)
        programs = programs_cache[key]
    customer = _find_customer(session, data.customer)
    created = False
    if customer is None:
        creators = [p for p in programs if p.unknown_customer == "create"]
        if creators:
            customer, created = _create_customer(session, data)
        elif programs:
            raise EventError(
                "customer",
                f"unknown customer; program {programs[0].key!r} accepts only known customers "
                "(set unknown_customer to 'create' to add them)",
            )
    event = SurveyEvent(
        org_unit_id=unit.id,
        type=data.type,
        external_id=data.external_id,
        customer_id=customer.id if customer else None,
        touchpoint=data.touchpoint,
        occurred_at=data.occurred_at,
        attributes=data.attributes,
    )
    session.add(event)
    session.flush()
    result = EventResult(event, customer_created=created)
    if customer is None:
        return result
    for program in programs:
        result.invitations.append(
            new_invitation(
                session=session,
                program=program,
                customer=customer,
                due_at=data.occurred_at + timedelta(minutes=program.delay_minutes),
                default_language=default_language,
                event_id=event.id,
                touchpoint=data.touchpoint,
                org_unit_id=unit.id,
            )
        )
    return result


def _create_customer(session: Session, data: EventCreate) -> tuple[Customer, bool]:
    ref = data.customer
    try:
        return upsert_customer(
            session=session,
            data=CustomerCreate.model_validate(
                {
                    "org_unit_id": data.org_unit_id,
                    "name": ref.name,
                    "language": ref.language,
                    "timezone": ref.timezone,
                    "identities": [i.model_dump() for i in ref.identities],
                }
            ),
        )
    except ValueError as exc:
        raise EventError("customer", str(exc)) from None
