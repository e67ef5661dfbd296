"""The whole loop: a detractor arrives, a case opens, goes overdue, escalates, is resolved,
the customer is re-surveyed and the loop metrics move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import cases, escalation, hooks, rules
from cxloop.act.loop_metrics import loop_metrics
from cxloop.store.models.act import Case, CaseEscalation, Delivery, RootCause
from cxloop.store.models.customers import Customer
from cxloop.store.scope import Scope
from tests.act.conftest import SurveySpy
from tests.conftest import Org


def _detractor(org: Org, customer_id: int, record_id: str = "r-1") -> hooks.RuleRecord:
    return hooks.RuleRecord(
        kind="response",
        id=record_id,
        org_unit_id=org.unit("store_a").id,
        customer_id=customer_id,
        fields={"nps": 3, "text": "待ち時間が長すぎる", "touchpoint": "store"},
    )


def test_detractor_case_escalates_resolves_and_recovers(
    session: Session, org: Org, survey_spy: SurveySpy
):
    customer = Customer(org_unit_id=org.unit("store_a").id, name="Sato", tier="gold")
    session.add(customer)
    cause = RootCause(
        org_unit_id=org.unit("acme").id, code="wait", name="Long wait", name_ja="待ち時間"
    )
    session.add(cause)
    rule = rules.create_rule(
        session=session,
        org_unit_id=org.unit("east").id,
        name="Detractor",
        condition="nps <= 6",
        actions=[{"type": "open_case", "priority": "high", "sla_hours": 24}],
    )
    session.flush()

    firings = hooks.record_arrived(session, _detractor(org, customer.id))
    assert [f.rule_id for f in firings] == [rule.id]
    case = session.get(Case, firings[0].case_id)
    assert case is not None
    assert case.owner_user_id == org.users["manager_a"].id
    assert case.due_at - case.created_at == timedelta(hours=24)
    assert case.original_score == 3
    # The same record delivered again fires nothing.
    assert hooks.record_arrived(session, _detractor(org, customer.id)) == []

    scope = Scope.for_units(session, [org.unit("acme").id])
    before = loop_metrics(session=session, scope=scope, now=case.created_at)
    assert before.overdue == 0 and before.recovery_rate is None

    late = case.due_at + timedelta(minutes=5)
    done = escalation.escalate_overdue(session=session, now=late)
    assert [(e.case_id, e.level, e.to_user_id) for e in done] == [
        (case.id, 1, org.users["east_manager"].id)
    ]
    assert escalation.escalate_overdue(session=session, now=late + timedelta(minutes=5)) == []
    assert session.scalars(select(CaseEscalation)).all()[0].to_unit_id == org.unit("east").id
    mail = session.scalars(select(Delivery).where(Delivery.event == "case.escalated")).one()
    assert mail.target == "east_manager@acme.example"
    assert loop_metrics(session=session, scope=scope, now=late).overdue == 1

    manager = cases.Author(org.users["manager_a"].id, "manager_a@acme.example")
    cases.add_contact(
        session=session,
        case=case,
        channel="phone",
        body="called back",
        author=manager,
        at=case.created_at + timedelta(hours=30),
    )
    assert case.status == "contacted"
    cases.change_status(
        session=session,
        case=case,
        status="resolved",
        author=manager,
        root_cause_id=cause.id,
        resolution="apologised",
        now=case.created_at + timedelta(hours=31),
    )
    cases.change_status(
        session=session,
        case=case,
        status="closed",
        author=manager,
        now=case.created_at + timedelta(hours=32),
    )
    assert [(r.case_id, r.customer_id) for r in survey_spy.requests] == [(case.id, customer.id)]
    assert case.resurvey_requested_at is not None

    reply = hooks.RuleRecord(
        kind="response",
        id="r-2",
        org_unit_id=org.unit("store_a").id,
        customer_id=customer.id,
        fields={"nps": 9},
        resurvey_case_id=case.id,
    )
    assert hooks.record_arrived(session, reply) == []  # a re-survey reply opens no case
    after = loop_metrics(session=session, scope=scope, now=late + timedelta(days=1))
    assert after.resolved == 1
    assert after.closed_within_sla == 0.0  # resolved after 31 h against a 24 h SLA
    assert after.median_hours_to_first_contact == 30
    assert after.recovery_rate == 1.0
    assert after.mean_score_change == 6
    assert session.scalar(select(Case.resurvey_score).where(Case.id == case.id)) == 9


def test_business_hours_due_time_uses_unit_time_zone(session: Session, org: Org):
    # Friday 17:00 in Tokyo; 4 business hours of 09:00-18:00 end Monday 12:00 Tokyo.
    opened = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    case = cases.open_case(
        session=session,
        unit=org.unit("store_a"),
        title="t",
        sla_hours=4,
        business_hours={"mon-fri": "09:00-18:00"},
        now=opened,
    )
    assert case.due_at == datetime(2026, 3, 9, 3, 0, tzinfo=UTC)


def test_unknown_owner_falls_back_to_queue_and_is_logged(session: Session, org: Org):
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="R",
        condition="csat <= 2",
        actions=[{"type": "open_case", "owner": "nobody@acme.example"}],
    )
    record = hooks.RuleRecord(
        kind="response", id="x", org_unit_id=org.unit("store_c").id, fields={"csat": 1}
    )
    (firing,) = hooks.record_arrived(session, record)
    case = session.get(Case, firing.case_id)
    assert case.owner_user_id is None
    (event,) = [e for e in cases.events(session, case) if e.kind == "routing"]
    assert "unknown owner 'nobody@acme.example'" in event.body
    assert "store_c queue" in event.body
