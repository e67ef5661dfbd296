"""Cases: open and route, the status workflow, notes, the contact log, root cause, re-survey."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from cxloop.act import routing
from cxloop.act.actions import OpenCase
from cxloop.act.hooks import RuleRecord, SurveyRequest, request_survey
from cxloop.act.sla import BusinessCalendar, due_time
from cxloop.store.base import utcnow
from cxloop.store.models.act import PRIORITIES, Case, CaseEvent, RootCause
from cxloop.store.models.org import OrgUnit, User

log = logging.getLogger(__name__)

OPEN_STATUSES = ("new", "in_progress", "contacted", "reopened")
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_progress", "contacted", "resolved", "closed"}),
    "in_progress": frozenset({"contacted", "resolved", "closed"}),
    "contacted": frozenset({"in_progress", "resolved", "closed"}),
    "resolved": frozenset({"closed", "reopened"}),
    "closed": frozenset({"reopened"}),
    "reopened": frozenset({"in_progress", "contacted", "resolved", "closed"}),
}
CONTACT_CHANNELS = ("phone", "email", "in_person", "chat", "letter", "other")


class CaseError(ValueError):
    def __init__(self, message: str, *, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Author:
    user_id: int | None = None
    label: str = "system"


SYSTEM = Author()


def _event(
    session: Session, case: Case, kind: str, author: Author, body: str = "", **detail: Any
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        org_unit_id=case.org_unit_id,
        kind=kind,
        author_user_id=author.user_id,
        author_label=author.label,
        body=body,
        detail=detail,
        at=utcnow(),
    )
    session.add(event)
    return event


def route(session: Session, unit: OrgUnit, owner_email: str | None) -> tuple[int | None, str]:
    """The owner's user id for a new case in ``unit`` and a note of how it was chosen.

    A named owner who cannot see the unit (or does not exist) is not trusted: the case goes to
    the unit's queue and the note says why.
    """
    if owner_email:
        user = routing.user_by_email(session, owner_email)
        if user is not None and routing.user_covers(session, user, unit):
            return user.id, f"assigned to {user.email} as the rule says"
        log.warning(
            "unknown owner %r for unit %s; case left in the unit queue", owner_email, unit.code
        )
        return None, f"unknown owner {owner_email!r}; routed to the {unit.code} queue"
    manager = routing.manager_id_email(session, unit.id)
    if manager is not None:
        return manager[0], f"assigned to the {unit.code} manager {manager[1]}"
    return None, f"no manager for {unit.code}; routed to the {unit.code} queue"


@dataclass(frozen=True)
class Opened:
    """A case just opened by :func:`insert_case` (no ORM object was loaded)."""

    id: int
    owner_user_id: int | None


_CASES: Table = Case.__table__  # type: ignore[assignment]
# Built once: constructing a statement per case costs more than running it.
_INSERT_CASE = insert(_CASES).returning(_CASES.c.id)
_INSERT_EVENT = insert(CaseEvent.__table__)  # type: ignore[arg-type]


def insert_case(
    *,
    session: Session,
    unit: OrgUnit,
    title: str,
    summary: str = "",
    priority: str = "normal",
    sla_hours: float | None = 48,
    business_hours: dict[str, Any] | None = None,
    owner_email: str | None = None,
    customer_id: int | None = None,
    record_kind: str | None = None,
    record_id: str | None = None,
    rule_id: int | None = None,
    original_score: float | None = None,
    resurvey_on_close: bool = False,
    author: Author = SYSTEM,
    now: datetime | None = None,
) -> Opened:
    """Open a case and its routing event with two Core inserts: rules open cases as records
    arrive, and ORM flushes cost several times the statements."""
    if priority not in PRIORITIES:
        raise CaseError(f"priority must be one of {', '.join(PRIORITIES)}", field="priority")
    opened = now or utcnow()
    due = None
    if sla_hours:
        calendar = (
            BusinessCalendar.from_hours(unit.timezone, business_hours) if business_hours else None
        )
        due = due_time(opened, timedelta(hours=sla_hours), calendar)
    owner_id, how = route(session, unit, owner_email)
    values = {
        "org_unit_id": unit.id,
        "rule_id": rule_id,
        "record_kind": record_kind,
        "record_id": record_id,
        "customer_id": customer_id,
        "title": title[:300],
        "summary": summary,
        "priority": priority,
        "status": "new",
        "owner_user_id": owner_id,
        "escalation_level": 0,
        "due_at": due,
        "sla_minutes": round(sla_hours * 60) if sla_hours else None,
        "business_hours": business_hours or {},
        "original_score": original_score,
        "resurvey_on_close": resurvey_on_close,
        "created_at": opened,
        "updated_at": opened,
    }
    case_id = session.execute(_INSERT_CASE, values).scalar_one()
    event = {
        "case_id": case_id,
        "org_unit_id": unit.id,
        "kind": "routing",
        "author_user_id": author.user_id,
        "author_label": author.label,
        "body": how,
        "detail": {"owner_user_id": owner_id},
        "at": utcnow(),
    }
    session.execute(_INSERT_EVENT, event)
    return Opened(case_id, owner_id)


def open_case(*, session: Session, **values: Any) -> Case:
    """:func:`insert_case`, returning the case (for the API and the demo)."""
    case = session.get(Case, insert_case(session=session, **values).id)
    assert case is not None
    return case


def open_case_for_record(
    *,
    session: Session,
    record: RuleRecord,
    unit: OrgUnit,
    action: OpenCase,
    rule_id: int,
    rule_name: str,
) -> Opened:
    text = record.fields.get("text")
    score = record.score
    title = f"{rule_name}: {record.kind} {record.id}"
    summary = text if isinstance(text, str) else ""
    return insert_case(
        session=session,
        unit=unit,
        title=title,
        summary=summary[:4000],
        priority=action.priority,
        sla_hours=action.sla_hours,
        business_hours=action.business_hours,
        owner_email=action.owner,
        customer_id=record.customer_id,
        record_kind=record.kind,
        record_id=record.id,
        rule_id=rule_id,
        original_score=score,
        resurvey_on_close=action.resurvey,
    )


def change_status(
    *,
    session: Session,
    case: Case,
    status: str,
    author: Author,
    root_cause_id: int | None = None,
    resolution: str | None = None,
    now: datetime | None = None,
) -> Case:
    """Move the case along the workflow; refuses transitions the workflow does not allow."""
    if status not in TRANSITIONS:
        raise CaseError(f"unknown status {status!r}", field="status")
    if status not in TRANSITIONS[case.status]:
        allowed = ", ".join(sorted(TRANSITIONS[case.status]))
        raise CaseError(
            f"cannot go from {case.status!r} to {status!r}; allowed: {allowed}",
            field="status",
            status=409,
        )
    at = now or utcnow()
    if root_cause_id is not None:
        set_root_cause(session=session, case=case, root_cause_id=root_cause_id, author=author)
    if resolution is not None:
        case.resolution = resolution
    if status in ("resolved", "closed") and case.resolved_at is None:
        if case.root_cause_id is None:
            raise CaseError("a root cause is needed to resolve a case", field="root_cause_id")
        case.resolved_at = at
    if status == "contacted" and case.first_contact_at is None:
        case.first_contact_at = at
    if status == "reopened":
        case.resolved_at = None
        case.closed_at = None
    previous = case.status
    case.status = status
    case.updated_at = at
    _event(session, case, "status", author, "", old=previous, new=status)
    if status == "closed":
        case.closed_at = at
        _resurvey(session, case, author, at)
    session.flush()
    return case


def _resurvey(session: Session, case: Case, author: Author, at: datetime) -> None:
    if not case.resurvey_on_close or case.resurvey_requested_at is not None:
        return
    if case.customer_id is None:
        _event(session, case, "resurvey", author, "no customer to re-survey", sent=False)
        return
    invitation = request_survey(
        session,
        SurveyRequest(
            case.customer_id, case.org_unit_id, case.id, case.record_kind, case.record_id
        ),
    )
    if invitation is None:
        _event(session, case, "resurvey", author, "re-survey not sent", sent=False)
        return
    case.resurvey_requested_at = at
    _event(
        session,
        case,
        "resurvey",
        author,
        "re-survey invitation sent",
        sent=True,
        invitation=invitation,
    )


def add_note(*, session: Session, case: Case, body: str, author: Author) -> CaseEvent:
    if not body.strip():
        raise CaseError("a note needs text", field="body")
    event = _event(session, case, "note", author, body.strip())
    session.flush()
    return event


def add_contact(
    *,
    session: Session,
    case: Case,
    channel: str,
    body: str,
    author: Author,
    reached: bool = True,
    at: datetime | None = None,
) -> CaseEvent:
    """Log a contact attempt with the customer; the first successful one starts the
    time-to-first-contact clock's stop."""
    if channel not in CONTACT_CHANNELS:
        raise CaseError(f"channel must be one of {', '.join(CONTACT_CHANNELS)}", field="channel")
    when = at or utcnow()
    event = _event(session, case, "contact", author, body.strip(), channel=channel, reached=reached)
    event.at = when
    if reached and case.first_contact_at is None:
        case.first_contact_at = when
    if reached and case.status in ("new", "in_progress", "reopened"):
        change_status(session=session, case=case, status="contacted", author=author, now=when)
    session.flush()
    return event


def set_root_cause(*, session: Session, case: Case, root_cause_id: int, author: Author) -> None:
    cause = session.get(RootCause, root_cause_id)
    if cause is None or not cause.is_active:
        raise CaseError(f"root cause {root_cause_id} not found", field="root_cause_id")
    if case.root_cause_id != cause.id:
        case.root_cause_id = cause.id
        _event(session, case, "root_cause", author, cause.name, root_cause_id=cause.id)


def assign(*, session: Session, case: Case, user: User | None, author: Author) -> Case:
    unit = session.get(OrgUnit, case.org_unit_id)
    assert unit is not None
    if user is not None and not routing.user_covers(session, user, unit):
        raise CaseError("that user cannot see this case's org unit", field="owner_user_id")
    case.owner_user_id = user.id if user else None
    _event(session, case, "routing", author, f"assigned to {user.email if user else 'the queue'}")
    session.flush()
    return case


def record_resurvey_reply(*, session: Session, record: RuleRecord) -> Case | None:
    """Store the re-survey reply's score on its case (for the recovery rate)."""
    case = session.get(Case, record.resurvey_case_id)
    if case is None:
        log.warning("re-survey reply %s names unknown case %s", record.id, record.resurvey_case_id)
        return None
    case.resurvey_score = record.score
    _event(
        session,
        case,
        "resurvey_reply",
        SYSTEM,
        "",
        score=record.score,
        record_kind=record.kind,
        record_id=record.id,
    )
    session.flush()
    return case


def events(session: Session, case: Case) -> list[CaseEvent]:
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
    )


def root_causes(session: Session, *, active_only: bool = True) -> list[RootCause]:
    stmt = select(RootCause).order_by(RootCause.code)
    if active_only:
        stmt = stmt.where(RootCause.is_active.is_(True))
    return list(session.scalars(stmt).all())


def is_overdue(case: Case, now: datetime | None = None) -> bool:
    return (
        case.status in OPEN_STATUSES and case.due_at is not None and (now or utcnow()) > case.due_at
    )
