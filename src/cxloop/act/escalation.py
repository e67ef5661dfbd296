"""Overdue cases escalate up the org tree, one recorded step per missed SLA period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxloop.act import routing
from cxloop.act.cases import OPEN_STATUSES, SYSTEM, _event
from cxloop.store.base import utcnow
from cxloop.store.models.act import Case, CaseEscalation
from cxloop.store.models.org import OrgUnit


@dataclass(frozen=True)
class Escalated:
    case_id: int
    level: int
    to_unit_id: int
    to_user_id: int


def _threshold(case: Case) -> datetime:
    """Level n+1 is due once the case is n further SLA periods past its due time."""
    assert case.due_at is not None
    period = timedelta(minutes=case.sla_minutes or 0) or (case.due_at - case.created_at)
    return case.due_at + case.escalation_level * max(period, timedelta(minutes=1))


def escalate_overdue(*, session: Session, now: datetime | None = None) -> list[Escalated]:
    """Escalate every overdue open case one level to the manager of the unit above.

    Each (case, level) is recorded once under a unique key, so running the job again, or
    twice at the same time, never repeats an escalation.
    """
    at = now or utcnow()
    candidates = session.scalars(
        select(Case)
        .where(Case.status.in_(OPEN_STATUSES), Case.due_at.is_not(None), Case.due_at < at)
        .order_by(Case.due_at)
    ).all()
    done = []
    for case in candidates:
        if at <= _threshold(case):
            continue
        unit = session.get(OrgUnit, case.org_unit_id)
        assert unit is not None
        level = case.escalation_level + 1
        found = routing.manager_above(session, unit, steps=level)
        if found is None:
            continue  # already at the top of the tree
        target_unit, manager = found
        try:
            with session.begin_nested():
                session.add(
                    CaseEscalation(
                        case_id=case.id,
                        org_unit_id=case.org_unit_id,
                        level=level,
                        to_unit_id=target_unit.id,
                        to_user_id=manager.id,
                        at=at,
                    )
                )
        except IntegrityError:
            continue  # another worker recorded this level first
        case.escalation_level = level
        case.escalated_to_user_id = manager.id
        _event(
            session,
            case,
            "escalation",
            SYSTEM,
            f"overdue: escalated to {manager.email} ({target_unit.code})",
            level=level,
            to_user_id=manager.id,
            to_unit_id=target_unit.id,
        )
        from cxloop.act.notify import queue_email

        queue_email(
            session=session,
            org_unit_id=case.org_unit_id,
            to=manager.email,
            event="case.escalated",
            subject=f"Escalated: case #{case.id} is overdue",
            text=f'Case #{case.id} "{case.title}" passed its due time and is escalated to you.',
        )
        done.append(Escalated(case.id, level, target_unit.id, manager.id))
    session.flush()
    return done
