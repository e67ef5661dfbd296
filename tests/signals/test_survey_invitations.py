"""Every contact-policy rule, applied through the invitation service, with its stored reason."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.survey_events import EventCreate, EventError, record_event
from cxloop.signals.survey_invitations import dispatch_due, unsubscribe
from cxloop.signals.survey_programs import SensitivityRuleCreate, create_sensitivity_rule
from cxloop.store.models.customers import Customer
from cxloop.store.models.surveys import SurveyEvent, SurveyInvitation
from tests.conftest import Org
from tests.survey_helpers import T0, make_customer, make_program, make_survey


def _event(session, org, email="hanako@cust.example", at=T0, type="store_visit", **kw):
    data = EventCreate.model_validate(
        {
            "type": type,
            "org_unit_id": org.unit("store_a").id,
            "customer": {"identities": [{"kind": "email", "value": email}]},
            "occurred_at": at.isoformat(),
            "touchpoint": "checkout",
            **kw,
        }
    )
    result = record_event(session=session, data=data, default_language="en")
    session.commit()
    return result


def _run(session, at):
    ids = dispatch_due(session=session, now=at)
    session.commit()
    return ids


def _setup(session, org, **program):
    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("acme"), **program)
    return survey


def test_event_waits_for_the_delay_then_is_scheduled_for_sending(session: Session, org: Org):
    _setup(session, org, delay_minutes=120)
    customer = make_customer(session, org.unit("store_a"), "hanako@cust.example")
    result = _event(session, org)
    (inv,) = result.invitations
    assert (inv.status, inv.due_at, inv.customer_id) == (
        "pending",
        T0 + timedelta(hours=2),
        customer.id,
    )
    assert inv.org_unit_id == org.unit("store_a").id and inv.touchpoint == "checkout"
    assert _run(session, T0 + timedelta(minutes=119)) == []
    assert _run(session, T0 + timedelta(minutes=120)) == [inv.id]
    session.refresh(inv)
    assert (inv.status, inv.reason_code) == ("sending", "sent")


def test_global_frequency_cap_counts_every_survey(session: Session, org: Org):
    policy = {"caps": [{"max_invitations": 1, "window_days": 30, "scope": "global"}]}
    _setup(session, org, policy=policy)
    other = make_survey(session, org.unit("acme"), key="delivery-csat")
    make_program(
        session,
        other,
        org.unit("acme"),
        key="post-delivery",
        event_types=["order_delivered"],
        policy=policy,
    )
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    _event(session, org)
    _run(session, T0)
    later = _event(session, org, at=T0 + timedelta(days=10), type="order_delivered")
    _run(session, T0 + timedelta(days=10))
    inv = later.invitations[0]
    session.refresh(inv)
    assert inv.status == "suppressed"
    assert inv.reason_code == "frequency_cap"
    assert inv.reason == "frequency cap: 1 per 30 days (global)"


def test_survey_cap_ignores_other_surveys_but_counts_its_own(session: Session, org: Org):
    policy = {"caps": [{"max_invitations": 1, "window_days": 30, "scope": "survey"}]}
    _setup(session, org, policy=policy)
    other = make_survey(session, org.unit("acme"), key="delivery-csat")
    make_program(
        session,
        other,
        org.unit("acme"),
        key="post-delivery",
        event_types=["order_delivered"],
        policy=policy,
    )
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    _event(session, org)
    _run(session, T0)
    delivery = _event(session, org, at=T0 + timedelta(days=1), type="order_delivered")
    visit = _event(session, org, at=T0 + timedelta(days=2))
    _run(session, T0 + timedelta(days=2))
    session.refresh(delivery.invitations[0])
    session.refresh(visit.invitations[0])
    assert delivery.invitations[0].status == "sending"
    assert visit.invitations[0].reason == "frequency cap: 1 per 30 days (survey store-nps)"


def test_minimum_days_between_invitations(session: Session, org: Org):
    _setup(session, org, policy={"min_days_between": 7})
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    _event(session, org)
    _run(session, T0)
    soon = _event(session, org, at=T0 + timedelta(days=6))
    late = _event(session, org, at=T0 + timedelta(days=8))
    _run(session, T0 + timedelta(days=6))
    _run(session, T0 + timedelta(days=8))
    session.refresh(soon.invitations[0])
    session.refresh(late.invitations[0])
    assert soon.invitations[0].status == "suppressed"
    assert soon.invitations[0].reason == "minimum gap: 7 days between invitations"
    assert late.invitations[0].status == "sending"


def test_quiet_hours_in_the_customers_zone_defer_the_send(session: Session, org: Org):
    _setup(session, org, policy={"quiet_start": "21:00", "quiet_end": "09:00"})
    make_customer(session, org.unit("store_a"), "hanako@cust.example", timezone="Asia/Tokyo")
    night = datetime(2026, 5, 12, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
    result = _event(session, org, at=night)
    assert _run(session, night) == []
    inv = result.invitations[0]
    session.refresh(inv)
    assert inv.status == "scheduled"
    assert inv.due_at == datetime(2026, 5, 13, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert inv.reason_code == "deferred_quiet_hours"
    assert inv.reason == "quiet hours 21:00-09:00 (Asia/Tokyo): deferred to 09:00 local"
    assert _run(session, datetime(2026, 5, 13, 0, 0, tzinfo=UTC)) == [inv.id]


def test_opted_out_customers_are_never_invited(session: Session, org: Org):
    _setup(session, org)
    customer = make_customer(session, org.unit("store_a"), "hanako@cust.example")
    customer.opted_out = True
    session.commit()
    inv = _event(session, org).invitations[0]
    _run(session, T0)
    session.refresh(inv)
    assert (inv.status, inv.reason_code, inv.reason) == ("suppressed", "opted_out", "opted out")


def test_unsubscribe_withdraws_pending_and_blocks_future_invitations(session: Session, org: Org):
    _setup(session, org, delay_minutes=60)
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    first = _event(session, org).invitations[0]
    waiting = _event(session, org, at=T0 + timedelta(minutes=5)).invitations[0]
    assert unsubscribe(session=session, inv=first) is True
    session.commit()
    session.refresh(waiting)
    assert (waiting.status, waiting.reason) == ("suppressed", "unsubscribed")
    later = _event(session, org, at=T0 + timedelta(days=40)).invitations[0]
    _run(session, T0 + timedelta(days=41))
    session.refresh(later)
    assert (later.status, later.reason_code) == ("suppressed", "unsubscribed")


@pytest.mark.parametrize(("percent", "status"), [(0.0, "suppressed"), (100.0, "sending")])
def test_sampling_percentage(session: Session, org: Org, percent, status):
    _setup(session, org, policy={"sample_percent": percent})
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    inv = _event(session, org).invitations[0]
    _run(session, T0)
    session.refresh(inv)
    assert inv.status == status
    if status == "suppressed":
        assert inv.reason == "not sampled (0 %)"


def test_sampling_draws_roughly_the_share_asked(session: Session, org: Org):
    _setup(session, org, policy={"sample_percent": 30.0})
    for i in range(200):
        make_customer(session, org.unit("store_a"), f"c{i}@cust.example")
        _event(session, org, email=f"c{i}@cust.example")
    _run(session, T0)
    sent = session.scalars(
        select(SurveyInvitation).where(SurveyInvitation.status == "sending")
    ).all()
    assert 40 <= len(sent) <= 80  # 30 % of 200 = 60; the draw is deterministic


def test_sensitivity_rule_suppresses_a_segment_with_its_reason(session: Session, org: Org):
    _setup(session, org)
    create_sensitivity_rule(
        session=session,
        data=SensitivityRuleCreate(
            org_unit_id=org.unit("acme").id,
            name="Travel disruption",
            attribute="industry",
            values=["travel"],
            start=date(2026, 5, 1),
            end=date(2026, 5, 31),
            reason="airline strike; do not survey travel customers",
        ),
        created_by="admin@acme.example",
    )
    make_customer(session, org.unit("store_a"), "t@cust.example", industry="travel")
    make_customer(session, org.unit("store_a"), "r@cust.example", industry="retail")
    travel = _event(session, org, email="t@cust.example").invitations[0]
    retail = _event(session, org, email="r@cust.example").invitations[0]
    after = _event(session, org, email="t@cust.example", at=datetime(2026, 6, 2, tzinfo=UTC))
    _run(session, datetime(2026, 6, 2, tzinfo=UTC))
    for inv in (travel, retail, after.invitations[0]):
        session.refresh(inv)
    assert travel.status == "suppressed"
    assert travel.reason == (
        'sensitivity rule "Travel disruption" (industry = travel, 2026-05-01..2026-05-31): '
        "airline strike; do not survey travel customers"
    )
    assert retail.status == "sending"
    assert after.invitations[0].status == "sending"  # the rule is over


def test_unknown_customer_rejected_or_created_per_program(session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    program = make_program(session, survey, org.unit("acme"))
    with pytest.raises(EventError) as err:
        _event(session, org, email="new@cust.example")
    assert err.value.field == "customer"
    session.rollback()
    program.unknown_customer = "create"
    session.commit()
    result = _event(session, org, email="New@Cust.example")
    assert result.customer_created is True
    customer = session.get(Customer, result.event.customer_id)
    assert customer is not None and customer.org_unit_id == org.unit("store_a").id
    assert len(result.invitations) == 1


def test_events_are_idempotent_on_external_id(session: Session, org: Org):
    _setup(session, org)
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    first = _event(session, org, external_id="visit-42")
    again = _event(session, org, external_id="visit-42")
    assert again.duplicate is True
    assert again.event.id == first.event.id
    assert [i.id for i in again.invitations] == [i.id for i in first.invitations]
    assert len(session.scalars(select(SurveyEvent)).all()) == 1


def test_programs_only_fire_for_their_event_types_and_units(session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("west"))  # store_c only
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    assert _event(session, org).invitations == []
    assert _event(session, org, type="call_ended").invitations == []


def test_a_survey_that_is_not_live_is_not_sent(session: Session, org: Org):
    survey = _setup(session, org)
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    inv = _event(session, org).invitations[0]
    survey.status = "closed"
    session.commit()
    _run(session, T0)
    session.refresh(inv)
    assert (inv.status, inv.reason) == ("suppressed", "the survey is not live")
