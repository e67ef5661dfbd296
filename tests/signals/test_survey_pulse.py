"""Employee pulse: anonymous storage and results only for large enough groups."""

from datetime import UTC, datetime, time

from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from cxloop.signals.survey_responses import open_invitation, save_answers
from cxloop.signals.survey_waves import run_pulse_wave
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyInvitation, SurveyResponse
from cxloop.store.org import create_user
from tests.conftest import Org, login
from tests.survey_helpers import en_ja, make_program, make_survey

PULSE = {
    "questions": [
        {
            "id": "enps",
            "type": "nps",
            "required": True,
            "text": en_ja("Would you recommend working here?", "この職場を勧めますか？"),
        },
        {
            "id": "workload",
            "type": "rating",
            "scale_min": 1,
            "scale_max": 5,
            "text": en_ja("My workload is manageable", "業務量は適切だ"),
        },
        {"id": "comment", "type": "text", "text": en_ja("Anything to add?", "ご意見は？")},
    ]
}


def _staff(session: Session, org: Org, unit: str, n: int) -> None:
    for i in range(n):
        create_user(
            session=session,
            email=f"{unit}.s{i}@acme.example",
            name=f"{unit} {i}",
            role="frontline",
            units=[org.unit(unit)],
        )
    session.commit()


def _pulse(session: Session, org: Org):
    survey = make_survey(
        session, org.unit("acme"), key="team-pulse", kind="pulse", anonymous=True, definition=PULSE
    )
    program = make_program(
        session, survey, org.unit("east"), key="east-pulse", kind="pulse", event_types=[]
    )
    return survey, program


def _answer_all(session: Session, scores: dict[str, int]) -> None:
    """Everyone whose e-mail starts with a key answers with that key's score."""
    now = utcnow()
    for inv in session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.id)).all():
        prefix = inv.address.split(".")[0] if inv.address else ""
        if prefix not in scores:
            continue
        inv.status = "sent"
        form = open_invitation(session=session, inv=inv, now=now)
        save_answers(session=session, form=form, given={"workload": 2}, complete=False, now=now)
        assert inv.draft == {"workload": 2}  # progress kept while answering
        save_answers(
            session=session,
            form=form,
            given={"enps": scores[prefix], "comment": f"note from {prefix}"},
            complete=True,
            now=now,
        )
    session.commit()


def test_anonymous_pulse_keeps_no_link_to_the_person(session: Session, org: Org):
    _staff(session, org, "store_a", 1)
    survey, program = _pulse(session, org)
    summary = run_pulse_wave(
        session=session, program=program, wave="2026-05", now=utcnow(), default_language="ja"
    )
    assert summary.planned == 4  # east_manager, manager_a, frontline_a, store_a.s0
    session.commit()
    _answer_all(session, {"store_a": 7})
    (resp,) = session.scalars(select(SurveyResponse)).all()
    assert resp.invitation_id is None and resp.customer_id is None and resp.form_nonce is None
    assert resp.language == "" and resp.channel == "pulse"
    midnight = datetime.combine(utcnow().date(), time(), tzinfo=UTC)
    assert resp.started_at == midnight and resp.completed_at == midnight
    assert resp.answers == {"enps": 7, "workload": 2, "comment": "note from store_a"}
    columns = {c.key for c in inspect(SurveyResponse).columns}
    assert not {"user_id", "respondent_id", "email"} & columns
    inv = session.scalar(select(SurveyInvitation).where(SurveyInvitation.responded_on.is_not(None)))
    assert inv.draft == {}  # the in-progress copy is gone
    # The link is used up: a second submission is refused.
    form = open_invitation(session=session, inv=inv, now=utcnow())
    assert form.state == "used"


def test_differencing_attack_is_blocked(client: TestClient, session: Session, org: Org):
    # east = store_a (5 respondents) + store_b (1 respondent): 6 in total.
    _staff(session, org, "store_a", 5)
    _staff(session, org, "store_b", 1)
    survey, program = _pulse(session, org)
    run_pulse_wave(
        session=session, program=program, wave="2026-05", now=utcnow(), default_language="en"
    )
    session.commit()
    _answer_all(session, {"store_a": 9, "store_b": 0})
    login(client, "admin@acme.example")
    body = client.get(f"/api/v1/surveys/{survey.id}/pulse").json()
    groups = {g["unit_id"]: g for g in body["groups"]}
    east, a, b = (groups[org.unit(c).id] for c in ("east", "store_a", "store_b"))
    assert body["min_group"] == 5 and body["wave"] == "2026-05"
    assert (east["status"], east["respondents"]) == ("shown", 6)
    enps = east["questions"][0]
    assert enps["mean"] == (5 * 9 + 0) / 6
    assert sorted(enps["distribution"].items())[:1] == [("0", 1)]
    assert len(east["questions"][2]["comments"]) == 6
    # A alone has 5 and would be over the threshold, but A next to A∪B gives B away.
    assert (a["status"], a["respondents"]) == ("complementary", 5)
    assert (b["status"], b["respondents"]) == ("below_threshold", 1)
    for hidden in (a, b):
        for q in hidden["questions"]:
            assert q["mean"] is None and q["distribution"] is None and q["comments"] is None
    # Individual pulse answers are never listed.
    r = client.get(f"/api/v1/survey-responses?survey_id={survey.id}")
    assert r.status_code == 403
    assert client.get(f"/api/v1/surveys/{survey.id}/responses.csv").status_code == 403


def test_small_store_manager_sees_counts_only(client: TestClient, session: Session, org: Org):
    _staff(session, org, "store_a", 2)
    survey, program = _pulse(session, org)
    run_pulse_wave(session=session, program=program, wave="w1", now=utcnow(), default_language="en")
    session.commit()
    _answer_all(session, {"store_a": 10, "manager_a@acme": 10})
    login(client, "manager_a@acme.example")
    body = client.get(f"/api/v1/surveys/{survey.id}/pulse").json()
    assert [g["unit_id"] for g in body["groups"]] == [org.unit("store_a").id]
    (group,) = body["groups"]
    assert (group["status"], group["respondents"]) == ("below_threshold", 3)
    assert all(q["mean"] is None for q in group["questions"])
    page = client.get(f"/surveys/{survey.id}")
    assert page.status_code == 200
    assert "too few to show" in page.text
    assert "note from store_a" not in page.text


def test_threshold_setting_is_applied(client: TestClient, app, session: Session, org: Org):
    app.state.settings = app.state.settings.model_copy(update={"pulse_min_group": 3})
    _staff(session, org, "store_a", 3)
    survey, program = _pulse(session, org)
    run_pulse_wave(session=session, program=program, wave="w1", now=utcnow(), default_language="en")
    session.commit()
    _answer_all(session, {"store_a": 8})
    login(client, "admin@acme.example")
    body = client.get(f"/api/v1/surveys/{survey.id}/pulse").json()
    group = next(g for g in body["groups"] if g["unit_id"] == org.unit("store_a").id)
    assert (group["status"], group["respondents"]) == ("shown", 3)
    assert group["questions"][0]["mean"] == 8
