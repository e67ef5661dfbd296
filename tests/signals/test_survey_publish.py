"""Completed responses reach the listeners from a job, in batches, after the answering
request has committed."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from cxloop.jobs import _SPECS, build_huey, enqueue
from cxloop.signals import listeners
from cxloop.signals.survey_responses import open_invitation, save_answers
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyResponse
from tests.signals.test_survey_submit import ANSWERS, _invitations
from tests.web.test_survey_form import _key


def _pending(session) -> list[bool]:
    session.expire_all()
    return list(session.scalars(select(SurveyResponse.publish_pending).order_by("id")))


def test_one_job_hands_a_batch_to_each_listener_once(session, org, settings):
    calls: list[list[int]] = []
    listener = lambda s, rows: calls.append([r.id for r in rows])  # noqa: E731
    listeners.subscribe("survey_response", listener)
    try:
        for inv, _ in _invitations(session, org, settings, 3):
            form = open_invitation(session=session, inv=inv, now=utcnow(), language="ja")
            save_answers(
                session=session, form=form, given=dict(ANSWERS), complete=True, now=utcnow()
            )
        session.commit()
        assert calls == [] and _pending(session) == [True, True, True]
        huey = build_huey(settings)
        huey.immediate = True
        assert enqueue(huey, "publish_survey_responses")() == 3
        assert enqueue(huey, "publish_survey_responses")() == 0  # nothing published twice
    finally:
        listeners.unsubscribe("survey_response", listener)
    ids = list(session.scalars(select(SurveyResponse.id).order_by(SurveyResponse.id)))
    assert calls == [ids]
    assert _pending(session) == [False, False, False]


def test_the_form_queues_the_job_once_its_answer_is_stored(client, session, org, settings):
    heard: list[int] = []
    listener = lambda s, rows: heard.extend(r.id for r in rows)  # noqa: E731
    # A real queue this time: the job waits in it until a worker takes it.
    huey = client.app.state.huey = build_huey(settings, name=f"publish-{uuid.uuid4().hex[:8]}")
    listeners.subscribe("survey_response", listener)
    try:
        ((_, url),) = _invitations(session, org, settings, 1)
        data = {f"q_{k}": v for k, v in ANSWERS.items()}
        key = _key(client.get(url).text)
        r = client.post(url, data={"form_key": key, **data}, follow_redirects=False)
        assert r.status_code == 303
        assert heard == [] and _pending(session) == [True]
        deadline = time.monotonic() + 60  # the nudge comes from a background thread
        while huey.pending_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        task = huey.dequeue()
        assert task is not None and task.name == "publish_survey_responses"
        assert huey.execute(task) == 1
    finally:
        listeners.unsubscribe("survey_response", listener)
        huey.flush()
    assert heard == list(session.scalars(select(SurveyResponse.id)))
    assert _pending(session) == [False]


def test_a_minute_sweep_publishes_what_a_lost_job_left() -> None:
    assert _SPECS["publish_survey_responses"].schedule == {"minute": "*"}
