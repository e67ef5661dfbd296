"""The re-survey invitation goes through the survey program called ``resurvey``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import cases, resurvey
from cxloop.store.models.act import CaseEvent, RootCause
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.surveys import Survey, SurveyInvitation, SurveyProgram
from tests.conftest import Org


def _close(session: Session, org: Org, customer: Customer) -> int:
    cause = RootCause(org_unit_id=org.unit("acme").id, code="x", name="X")
    session.add(cause)
    case = cases.open_case(
        session=session,
        unit=org.unit("store_a"),
        title="t",
        customer_id=customer.id,
        resurvey_on_close=True,
    )
    cases.change_status(
        session=session, case=case, status="closed", author=cases.SYSTEM, root_cause_id=cause.id
    )
    return case.id


def _customer(session: Session, org: Org) -> Customer:
    customer = Customer(org_unit_id=org.unit("store_a").id, name="Sato", language="ja")
    customer.identities = [CustomerIdentity(kind="email", value="sato@mail.example")]
    session.add(customer)
    session.flush()
    return customer


def test_closing_a_case_invites_through_the_resurvey_program(session: Session, org: Org):
    survey = Survey(
        org_unit_id=org.unit("acme").id, key="followup", public_token="tok", status="live"
    )
    session.add(survey)
    session.flush()
    session.add(
        SurveyProgram(
            org_unit_id=org.unit("acme").id,
            survey_id=survey.id,
            key="resurvey",
            name="Re-survey",
            kind="transactional",
        )
    )
    customer = _customer(session, org)
    case_id = _close(session, org, customer)
    (inv,) = session.scalars(select(SurveyInvitation)).all()
    assert (inv.customer_id, inv.survey_id, inv.status) == (customer.id, survey.id, "pending")
    assert resurvey.case_of_wave(inv.wave) == case_id
    assert inv.address == "sato@mail.example" and inv.language == "ja"


def test_without_a_resurvey_program_the_case_records_that_none_was_sent(session: Session, org: Org):
    customer = _customer(session, org)
    case_id = _close(session, org, customer)
    assert session.scalars(select(SurveyInvitation)).all() == []
    event = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "resurvey")
    )
    assert event is not None and event.detail["sent"] is False
