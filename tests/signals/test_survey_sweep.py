"""The sweep re-queues invitations left behind past their send time, through a real
consumer and a real SMTP server, and an invitation is never sent twice."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from huey import Huey
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs import JobContext, build_huey, enqueue
from cxloop.signals.survey_invitations import new_invitation
from cxloop.signals.survey_mail import deliver_invitation
from cxloop.signals.survey_sweep import advance_invitation, stuck_invitations
from cxloop.signals.survey_tasks import requeue_stuck_invitations
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyInvitation, SurveyProgram
from tests.conftest import Org
from tests.survey_helpers import make_customer, make_program, make_survey


def _orphan(
    session: Session, org: Org, *, late: timedelta, email="hanako@cust.example", program=None
):
    """A pending invitation whose send job is gone (as after a crash or a restore)."""
    if program is None:
        program = make_program(session, make_survey(session, org.unit("acme")), org.unit("acme"))
    customer = make_customer(session, org.unit("store_a"), email, language="en")
    inv = new_invitation(
        session=session,
        program=program,
        customer=customer,
        due_at=utcnow() - late,
        default_language="en",
    )
    session.commit()
    return inv


def _deliver(session: Session, settings: Settings, invitation_id: int, now) -> str:
    result = deliver_invitation(
        session=session, settings=settings, invitation_id=invitation_id, now=now
    )
    session.commit()
    return result.outcome


@contextmanager
def _consumer(settings: Settings, workers: int = 1) -> Iterator[Huey]:
    huey = build_huey(settings, name=f"test-sweep-{uuid.uuid4().hex[:8]}")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=False)
    consumer.start()
    try:
        yield huey
    finally:
        consumer.stop(graceful=True)
        huey.flush()


def test_sweep_sends_a_stuck_invitation_once_through_a_real_consumer(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    inv = _orphan(session, org, late=timedelta(hours=2))
    with _consumer(mail_settings) as huey:
        queued = enqueue(huey, "requeue_stuck_invitations").get(blocking=True, timeout=30)
        assert list(queued) == [inv.id]
        assert huey.result(queued[inv.id], blocking=True, timeout=30) == "sent"
        assert len(smtp_server.messages) == 1
        again = enqueue(huey, "requeue_stuck_invitations").get(blocking=True, timeout=30)
        assert again == {}
    assert len(smtp_server.messages) == 1
    (msg,) = smtp_server.parsed()
    assert msg["To"] == "hanako@cust.example"
    session.refresh(inv)
    assert (inv.status, inv.attempts, inv.reason_code) == ("sent", 1, "sent")


def test_a_send_queued_twice_goes_out_once(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    inv = _orphan(session, org, late=timedelta(hours=2))
    with _consumer(mail_settings, workers=2) as huey:
        first = enqueue(huey, "send_survey_invitation", inv.id)
        second = enqueue(huey, "send_survey_invitation", inv.id)
        outcomes = sorted(
            [first.get(blocking=True, timeout=30), second.get(blocking=True, timeout=30)]
        )
    assert outcomes == ["sent", "skipped"]
    assert len(smtp_server.messages) == 1
    session.refresh(inv)
    assert (inv.status, inv.attempts) == ("sent", 1)


def test_only_invitations_overdue_past_the_grace_are_stuck(session: Session, org: Org):
    stuck = _orphan(session, org, late=timedelta(minutes=30))
    fresh = _orphan(
        session,
        org,
        late=timedelta(minutes=2),
        email="emma@cust.example",
        program=session.get(SurveyProgram, stuck.program_id),
    )
    now = utcnow()
    assert stuck_invitations(session=session, now=now) == [stuck.id]
    # A failed send waiting for its back-off is the dispatcher's, not stuck.
    stuck.status, stuck.attempts, stuck.last_attempt_at = "sending", 3, now - timedelta(minutes=5)
    session.commit()
    assert stuck_invitations(session=session, now=now) == []
    assert stuck_invitations(session=session, now=now + timedelta(minutes=20)) == [
        stuck.id,
        fresh.id,
    ]


def test_claims_stop_a_second_sender(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    inv = _orphan(session, org, late=timedelta(hours=1))
    now = utcnow()
    assert advance_invitation(session=session, invitation_id=inv.id, now=now) == "sending"
    # A second job that read the row before the first moved it: the transition is refused.
    assert advance_invitation(session=session, invitation_id=inv.id, now=now) == "sending"
    session.commit()
    sent = _deliver(session, mail_settings, inv.id, now)
    assert sent == "sent"
    # A stale write that put the sent invitation back to `sending` does not send it again.
    session.get(SurveyInvitation, inv.id).status = "sending"
    session.commit()
    later = now + timedelta(hours=2)
    again = _deliver(session, mail_settings, inv.id, later)
    assert again == "skipped"
    session.refresh(inv)
    assert inv.status == "sent"
    assert len(smtp_server.messages) == 1


def test_sweep_run_by_hand_sends_in_process(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    inv = _orphan(session, org, late=timedelta(hours=1))
    assert requeue_stuck_invitations(JobContext(mail_settings)) == {inv.id: "sent"}
    assert requeue_stuck_invitations(JobContext(mail_settings)) == {}
    assert len(smtp_server.messages) == 1


def test_a_sender_holding_a_stale_row_loses_the_claim(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    from cxloop.store.engine import session_factory

    inv = _orphan(session, org, late=timedelta(hours=1))
    now = utcnow()
    advance_invitation(session=session, invitation_id=inv.id, now=now)
    session.commit()
    other = session_factory(mail_settings.resolved_database_url)()
    try:
        stale = other.get(SurveyInvitation, inv.id)  # read before the first sender sends
        assert (stale.status, stale.attempts) == ("sending", 0)
        first = _deliver(session, mail_settings, inv.id, now)
        second = _deliver(other, mail_settings, inv.id, now)
    finally:
        other.close()
    assert (first, second) == ("sent", "skipped")
    assert len(smtp_server.messages) == 1
