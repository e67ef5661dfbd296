"""The Core submit path stores what the ORM path stores and tells the listeners (through
the publishing job, which the test queue runs inline)."""

from datetime import timedelta

from sqlalchemy import select

from cxloop.jobs import enqueue
from cxloop.signals import listeners
from cxloop.signals.survey_invitations import invitation_token, new_invitation
from cxloop.signals.survey_responses import open_invitation, save_answers
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyInvitation, SurveyResponse
from tests.survey_helpers import make_customer, make_program, make_survey
from tests.web.test_survey_form import _key

ANSWERS = {"nps": "9", "csat": "4", "ces": "6", "channels": ["store"], "comment": "早い <b>"}
SKIP = {"id", "invitation_id", "customer_id", "started_at", "completed_at"}


def _invitations(session, org, settings, n):
    survey = make_survey(session, org.unit("acme"))
    program = make_program(session, survey, org.unit("acme"))
    out = []
    for i in range(n):
        customer = make_customer(session, org.unit("store_a"), f"c{i}@cust.example")
        inv = new_invitation(
            session=session,
            program=program,
            customer=customer,
            due_at=utcnow(),
            default_language="en",
            touchpoint="checkout",
            wave="2030",
        )
        inv.status, inv.sent_at, inv.expires_at = "sent", utcnow(), utcnow() + timedelta(days=9)
        out.append(inv)
    session.commit()
    return [(inv, f"/s/{invitation_token(settings.resolved_secret_key, inv)}") for inv in out]


def _row(session, inv):
    session.expire_all()
    r = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    return {c: getattr(r, c) for c in SurveyResponse.__table__.columns.keys() if c not in SKIP}


def test_core_submit_stores_what_the_orm_path_stores(client, session, org, settings):
    heard = []

    def listener(s, rows):
        heard.extend((r.id, r.nps, r.wave, r.completed_at is not None) for r in rows)

    listeners.subscribe("survey_response", listener)
    try:
        (fast, url), (slow, _), (partial, purl) = _invitations(session, org, settings, 3)
        data = {f"q_{k}": v for k, v in ANSWERS.items()}
        key = _key(client.get(url).text)
        r = client.post(url, data={"form_key": key, **data}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{url}/thanks?lang=ja"
        form = open_invitation(session=session, inv=slow, now=utcnow(), language="ja")
        save_answers(session=session, form=form, given=dict(ANSWERS), complete=True, now=utcnow())
        session.commit()
        assert len(heard) == 1  # the form queued the job, the service call alone does not
        assert _row(session, slow)["publish_pending"] is True
        enqueue(client.app.state.huey, "publish_survey_responses")
        assert len(heard) == 2
        assert _row(session, fast) == _row(session, slow)
        got = _row(session, fast)
        assert (got["channel"], got["touchpoint"], got["comment_pending"]) == (
            "email",
            "checkout",
            True,
        )
        # An answer saved first (progress per answer), then the submit completes that row.
        pkey = _key(client.get(purl).text)
        saved = client.post(f"{purl}/answer?q=nps", data={"form_key": pkey, "q_nps": "9"})
        assert saved.status_code == 200
        r = client.post(purl, data={"form_key": pkey, **data}, follow_redirects=False)
        assert r.status_code == 303
        assert _row(session, partial) == _row(session, slow)
        for inv in (fast, slow, partial):
            assert session.get(SurveyInvitation, inv.id).responded_on is not None
    finally:
        listeners.unsubscribe("survey_response", listener)
    ids = [i for i, *_ in heard]
    assert len(heard) == 3 and len(set(ids)) == 3
    assert all(rest == [9, "2030", True] for _, *rest in heard)
    assert _row(session, partial)["publish_pending"] is False
