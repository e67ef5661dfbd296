"""Escalation climbs one level per missed SLA period and never repeats a level."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import cases, escalation
from cxloop.store.models.act import CaseEscalation
from tests.conftest import Org

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def test_levels_follow_sla_periods_up_the_tree(session: Session, org: Org):
    case = cases.open_case(
        session=session, unit=org.unit("store_a"), title="t", sla_hours=10, now=T0
    )
    assert escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=9)) == []
    (first,) = escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=11))
    assert (first.level, first.to_user_id) == (1, org.users["east_manager"].id)
    # Level 2 waits one more SLA period after the due time.
    assert escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=19)) == []
    (second,) = escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=21))
    assert second.level == 2
    assert second.to_unit_id == org.unit("acme").id  # the executive at the top
    assert second.to_user_id == org.users["exec"].id
    # Nothing is above the company: no third level, however late.
    assert escalation.escalate_overdue(session=session, now=T0 + timedelta(days=30)) == []
    assert case.escalation_level == 2


def test_a_level_already_recorded_is_not_repeated(session: Session, org: Org):
    case = cases.open_case(
        session=session, unit=org.unit("store_a"), title="t", sla_hours=1, now=T0
    )
    # Another worker recorded level 1 first (its case row update not yet seen here).
    session.add(
        CaseEscalation(
            case_id=case.id,
            org_unit_id=case.org_unit_id,
            level=1,
            to_unit_id=org.unit("east").id,
            to_user_id=None,
            at=T0,
        )
    )
    session.flush()
    assert escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=2)) == []
    assert len(session.scalars(select(CaseEscalation)).all()) == 1


def test_resolved_cases_do_not_escalate(session: Session, org: Org):
    from cxloop.store.models.act import RootCause

    cause = RootCause(org_unit_id=org.unit("acme").id, code="c", name="c")
    session.add(cause)
    case = cases.open_case(
        session=session, unit=org.unit("store_a"), title="t", sla_hours=1, now=T0
    )
    cases.change_status(
        session=session,
        case=case,
        status="resolved",
        author=cases.SYSTEM,
        root_cause_id=cause.id,
        now=T0 + timedelta(hours=3),
    )
    assert escalation.escalate_overdue(session=session, now=T0 + timedelta(hours=5)) == []
