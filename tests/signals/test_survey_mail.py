"""Invitation and reminder e-mails through a real SMTP server, in both languages;
bad addresses and a dead SMTP server."""

from datetime import timedelta

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.jobs import JobContext
from cxloop.signals.survey_events import EventCreate, record_event
from cxloop.signals.survey_invitations import dispatch_due, invitation_token
from cxloop.signals.survey_mail import deliver_invitation, deliver_reminder, due_reminders
from cxloop.signals.survey_tasks import dispatch_survey_invitations, send_survey_reminders
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyInvitation
from tests.conftest import Org, free_port
from tests.survey_helpers import make_customer, make_program, make_survey


def _invite(session, org, email, now, **program):
    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("acme"), **program)
    data = EventCreate.model_validate(
        {
            "type": "store_visit",
            "org_unit_id": org.unit("store_a").id,
            "customer": {"identities": [{"kind": "email", "value": email}]},
            "occurred_at": now.isoformat(),
        }
    )
    (inv,) = record_event(session=session, data=data, default_language="en").invitations
    session.commit()
    return inv


def test_invitation_mail_in_japanese_with_personal_link_and_unsubscribe(
    session: Session, org: Org, mail_settings: Settings, smtp_server
):
    now = utcnow()
    make_customer(
        session, org.unit("store_a"), "hanako@cust.example", language="ja", name="山田 <b>花子</b>"
    )
    inv = _invite(session, org, "hanako@cust.example", now)
    assert dispatch_survey_invitations(JobContext(mail_settings)) == {"sent": 1}
    (msg,) = smtp_server.parsed()
    assert msg["To"] == "hanako@cust.example"
    assert msg["Subject"] == "ご意見をお聞かせください：アンケート store-nps"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    session.refresh(inv)
    token = invitation_token(mail_settings.resolved_secret_key, inv)
    assert f"{mail_settings.base_url}/s/{token}" in text
    assert f"{mail_settings.base_url}/s/{token}/unsubscribe" in text
    assert "配信停止" in text and "山田 <b>花子</b> 様" in text
    assert "山田 &lt;b&gt;花子&lt;/b&gt; 様" in html  # the customer's name is escaped
    assert (inv.status, inv.attempts) == ("sent", 1)
    assert inv.expires_at is not None and inv.sent_at is not None


def test_invitation_mail_in_english(session: Session, org: Org, mail_settings, smtp_server):
    now = utcnow()
    make_customer(session, org.unit("store_a"), "emma@cust.example", language="en", name="Emma")
    inv = _invite(session, org, "emma@cust.example", now)
    (sid,) = dispatch_due(session=session, now=now)
    result = deliver_invitation(session=session, settings=mail_settings, invitation_id=sid, now=now)
    session.commit()
    assert result.outcome == "sent"
    (msg,) = smtp_server.parsed()
    assert msg["Subject"] == "How did we do? Survey store-nps"
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Hello Emma,")
    assert "Do not want survey e-mails? Unsubscribe:" in text
    assert inv.id == sid


def test_malformed_address_fails_with_the_reason(
    session: Session, org: Org, mail_settings, smtp_server
):
    now = utcnow()
    make_customer(session, org.unit("store_a"), "not an address@x", language="en")
    inv = _invite(session, org, "not an address@x", now)
    dispatch_due(session=session, now=now)
    result = deliver_invitation(
        session=session, settings=mail_settings, invitation_id=inv.id, now=now
    )
    session.commit()
    assert result.outcome == "failed"
    session.refresh(inv)
    assert inv.status == "failed"
    assert inv.reason_code == "invalid_address"
    assert "'not an address@x' is not a valid e-mail address" in (inv.reason or "")
    assert smtp_server.messages == []


def test_smtp_down_is_recorded_and_retried_until_sent(
    session: Session, org: Org, settings, smtp_server
):
    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    up = settings.model_copy(update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port})
    now = utcnow()
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    inv = _invite(session, org, "hanako@cust.example", now)
    assert dispatch_survey_invitations(JobContext(down)) == {"retry": 1}
    session.refresh(inv)
    assert (inv.status, inv.attempts) == ("sending", 1)
    assert inv.last_error and "SMTP 127.0.0.1" in inv.last_error
    # Within the back-off nothing is tried; after it, the next run delivers.
    assert dispatch_survey_invitations(JobContext(up)) == {}
    inv.last_attempt_at = now - timedelta(minutes=2)
    session.commit()
    assert dispatch_survey_invitations(JobContext(up)) == {"sent": 1}
    session.refresh(inv)
    assert (inv.status, inv.attempts, inv.last_error) == ("sent", 2, None)
    assert len(smtp_server.messages) == 1


def test_send_task_raises_so_the_queue_retries(session: Session, org: Org, settings):
    import pytest

    from cxloop.mail import MailError
    from cxloop.signals.survey_tasks import send_survey_invitation

    down = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": free_port()})
    now = utcnow()
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    inv = _invite(session, org, "hanako@cust.example", now)
    dispatch_due(session=session, now=now)
    session.commit()
    with pytest.raises(MailError):
        send_survey_invitation(JobContext(down), inv.id)
    session.refresh(inv)
    assert (inv.status, inv.attempts) == ("sending", 1)  # the attempt was kept


def test_reminder_once_after_n_days_to_non_responders(
    session: Session, org: Org, mail_settings, smtp_server
):
    now = utcnow()
    make_customer(session, org.unit("store_a"), "hanako@cust.example", language="ja")
    inv = _invite(
        session, org, "hanako@cust.example", now - timedelta(days=4), reminder_after_days=3
    )
    dispatch_due(session=session, now=now - timedelta(days=4))
    deliver_invitation(
        session=session, settings=mail_settings, invitation_id=inv.id, now=now - timedelta(days=4)
    )
    session.commit()
    assert send_survey_reminders(JobContext(mail_settings)) == {"sent": 1}
    assert send_survey_reminders(JobContext(mail_settings)) == {}  # once only
    reminder = smtp_server.parsed()[-1]
    assert reminder["Subject"] == "【再送】アンケート store-nps"
    assert "先日お送りしたアンケート" in reminder.get_body(("plain",)).get_content()


def test_no_reminder_before_n_days_or_after_an_answer(session: Session, org: Org, mail_settings):
    now = utcnow()
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    inv = _invite(
        session, org, "hanako@cust.example", now - timedelta(days=2), reminder_after_days=3
    )
    dispatch_due(session=session, now=now)
    inv_row = session.get(SurveyInvitation, inv.id)
    inv_row.status, inv_row.sent_at = "sent", now - timedelta(days=2)
    inv_row.expires_at = now + timedelta(days=10)
    session.commit()
    assert due_reminders(session=session, now=now) == []
    assert due_reminders(session=session, now=now + timedelta(days=1, minutes=1)) == [inv.id]
    inv_row.responded_on = now.date()
    session.commit()
    assert due_reminders(session=session, now=now + timedelta(days=2)) == []
    assert (
        deliver_reminder(
            session=session, settings=mail_settings, invitation_id=inv.id, now=now
        ).outcome
        == "skipped"
    )
