"""The loop with the real survey area: a detractor answer opens a case, closing it invites
the customer through the 'resurvey' program, and the answer to that invitation is the
recovery score."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import cases, escalation, hooks, resurvey, rules
from cxloop.act.loop_metrics import loop_metrics
from cxloop.act.sources import response_record
from cxloop.config import Settings
from cxloop.jobs import build_huey, enqueue
from cxloop.signals.survey_invitations import new_invitation
from cxloop.signals.survey_responses import open_invitation, save_answers
from cxloop.store.base import utcnow
from cxloop.store.models.act import Case, RootCause
from cxloop.store.models.surveys import SurveyInvitation
from cxloop.store.scope import Scope
from tests.conftest import Org
from tests.survey_helpers import make_customer, make_program, make_survey


def _answer(session: Session, settings: Settings, inv: SurveyInvitation, nps: int, comment: str):
    """Answer, commit, then run the job that hands the response to the alert rules through
    the queue (inline, as the test app's queue does)."""
    inv.status = "sent"
    now = utcnow()
    form = open_invitation(session=session, inv=inv, now=now)
    save_answers(
        session=session, form=form, given={"nps": nps, "comment": comment}, complete=True, now=now
    )
    session.commit()
    huey = build_huey(settings)
    huey.immediate = True
    assert enqueue(huey, "publish_survey_responses")() == 1
    session.expire_all()
    return form.response


def test_survey_response_to_case_to_resurvey_and_recovery(
    session: Session, org: Org, settings: Settings
):
    survey = make_survey(session, org.unit("acme"))
    visit = make_program(session, survey, org.unit("acme"), key="post-visit")
    make_program(session, survey, org.unit("acme"), key="resurvey", event_types=["case_closed"])
    customer = make_customer(session, org.unit("store_a"), "sato@mail.example")
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="Detractor",
        condition="nps <= 6",
        actions=[{"type": "open_case", "priority": "high", "sla_hours": 24}],
    )
    first = new_invitation(
        session=session,
        program=visit,
        customer=customer,
        due_at=utcnow(),
        default_language="ja",
        org_unit_id=org.unit("store_a").id,
    )

    # Completing the answer hands it to the alert rules: the case opens by itself.
    response = _answer(session, settings, first, 3, "レジで20分待たされた")
    case = session.scalars(select(Case)).one()
    assert hooks.record_arrived(session, response_record(response)) == []  # fires once only
    assert case.owner_user_id == org.users["manager_a"].id
    assert case.summary == "レジで20分待たされた" and case.original_score == 3
    assert case.due_at - case.created_at == timedelta(hours=24)

    escalation.escalate_overdue(session=session, now=case.due_at + timedelta(minutes=1))
    assert case.escalated_to_user_id == org.users["east_manager"].id
    cause = RootCause(org_unit_id=org.unit("acme").id, code="wait", name="Long wait")
    session.add(cause)
    author = cases.Author(org.users["manager_a"].id, "manager_a")
    cases.add_contact(session=session, case=case, channel="phone", body="お詫び", author=author)
    cases.change_status(
        session=session, case=case, status="resolved", author=author, root_cause_id=cause.id
    )
    cases.change_status(session=session, case=case, status="closed", author=author)

    second = session.scalars(select(SurveyInvitation).where(SurveyInvitation.id != first.id)).one()
    assert resurvey.case_of_wave(second.wave) == case.id
    assert second.customer_id == customer.id

    # The reply records the recovery score.
    _answer(session, settings, second, 9, "丁寧な対応でした")
    metrics = loop_metrics(
        session=session, scope=Scope.for_units(session, [org.unit("acme").id]), now=utcnow()
    )
    assert case.resurvey_score == 9
    assert metrics.recovery_rate == 1.0 and metrics.mean_score_change == 6
    assert session.scalar(select(Case.id).where(Case.id != case.id)) is None
