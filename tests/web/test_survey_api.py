"""The survey API: definitions and versions, programs, events, responses, export, rules."""

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.auth import AuditEntry
from cxloop.store.models.surveys import SurveyInvitation
from tests.conftest import Org, bearer, login, make_api_key
from tests.survey_helpers import DEFINITION, en_ja, make_customer, make_program, make_survey


def _create(client, csrf, org, key="visit-nps", **kw):
    body = {
        "key": key,
        "org_unit_id": org.unit("acme").id,
        "title": en_ja("Store visit", "来店アンケート"),
        "definition": DEFINITION,
        **kw,
    }
    return client.post("/api/v1/surveys", json=body, headers={"X-CSRF-Token": csrf})


def test_create_survey_and_edit_creates_versions_once_live(client: TestClient, org: Org):
    csrf = login(client, "admin@acme.example")
    h = {"X-CSRF-Token": csrf}
    r = _create(client, csrf, org)
    assert r.status_code == 201, r.text
    survey = r.json()
    assert survey["status"] == "draft" and survey["public_url"] is None
    sid = survey["id"]
    changed = {**DEFINITION, "questions": DEFINITION["questions"][:3]}
    # Every edit is a new version; versions never change once written.
    v = client.put(f"/api/v1/surveys/{sid}/definition", json=changed, headers=h).json()
    assert v["number"] == 2 and len(v["definition"]["questions"]) == 3
    client.patch(f"/api/v1/surveys/{sid}", json={"status": "live"}, headers=h)
    v3 = client.put(f"/api/v1/surveys/{sid}/definition", json=DEFINITION, headers=h).json()
    assert v3["number"] == 3
    versions = client.get(f"/api/v1/surveys/{sid}/versions").json()
    assert [(x["number"], len(x["definition"]["questions"])) for x in versions] == [
        (1, 8),
        (2, 3),
        (3, 8),
    ]
    assert client.get(f"/api/v1/surveys/{sid}").json()["current_version_id"] == v3["id"]
    assert client.get(f"/api/v1/surveys/{sid}/versions/2").json()["id"] == v["id"]


def test_survey_validation_errors_name_the_field(client: TestClient, org: Org):
    csrf = login(client, "admin@acme.example")
    bad = {**DEFINITION, "questions": [{"id": "nps", "type": "nps", "text": {"en": "x"}}]}
    r = _create(client, csrf, org, definition=bad)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "definition.questions.0.text.ja"
    assert _create(client, csrf, org).status_code == 201
    dup = _create(client, csrf, org)
    assert (dup.status_code, dup.json()["error"]["field"]) == (409, "key")


def test_anonymous_survey_gets_public_link_and_widget(client: TestClient, org: Org):
    csrf = login(client, "admin@acme.example")
    survey = _create(client, csrf, org, anonymous=True, status="live").json()
    assert survey["public_url"].startswith("http://127.0.0.1:8000/s/p/")
    assert survey["widget_snippet"].startswith('<iframe src="http://127.0.0.1:8000/s/w/')


def test_managers_read_but_cannot_edit_and_other_units_answer_404(
    client: TestClient, session: Session, org: Org
):
    company = make_survey(session, org.unit("acme"), key="company")
    west = make_survey(session, org.unit("west"), key="west-only")
    login(client, "manager_a@acme.example")
    listed = [s["key"] for s in client.get("/api/v1/surveys").json()["data"]]
    assert listed == ["company"]
    assert client.get(f"/api/v1/surveys/{west.id}").status_code == 404
    assert client.patch(f"/api/v1/surveys/{company.id}", json={"status": "closed"}).status_code in (
        403,
    )


def test_program_api_and_wave_planning(client: TestClient, session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"), key="rel-nps")
    for i in range(5):
        make_customer(session, org.unit("store_a"), f"c{i}@cust.example", industry="retail")
    make_customer(session, org.unit("store_c"), "x@cust.example", industry="travel")
    csrf = login(client, "admin@acme.example")
    h = {"X-CSRF-Token": csrf}
    r = client.post(
        "/api/v1/survey-programs",
        json={
            "key": "yearly",
            "name": "Yearly relationship NPS",
            "kind": "relationship",
            "survey_id": survey.id,
            "org_unit_id": org.unit("acme").id,
            "every_months": 12,
            "policy": {"caps": [{"max_invitations": 1, "window_days": 300}]},
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    rule = client.post(
        "/api/v1/survey-sensitivity-rules",
        json={
            "org_unit_id": org.unit("acme").id,
            "name": "Travel",
            "attribute": "industry",
            "values": ["travel"],
            "start": (utcnow() - timedelta(days=1)).date().isoformat(),
            "end": (utcnow() + timedelta(days=30)).date().isoformat(),
            "reason": "flights cancelled",
        },
        headers=h,
    )
    assert rule.status_code == 201 and rule.json()["created_by"] == "admin@acme.example"
    wave = client.post(f"/api/v1/survey-programs/{pid}/waves", json={"wave": "2026"}, headers=h)
    assert wave.status_code == 201, wave.text
    assert wave.json()["counts"] == {"sent": 5, "sensitivity_rule": 1}
    again = client.post(f"/api/v1/survey-programs/{pid}/waves", json={"wave": "2026"}, headers=h)
    assert again.status_code == 409
    invs = client.get(f"/api/v1/survey-invitations?program_id={pid}&status=suppressed").json()
    assert invs["count"] == 1
    assert invs["data"][0]["reason"].startswith('sensitivity rule "Travel"')
    # The next wave within the cap's window is suppressed for everyone already invited.
    nxt = client.post(f"/api/v1/survey-programs/{pid}/waves", json={"wave": "2026b"}, headers=h)
    assert nxt.json()["counts"] == {"frequency_cap": 5, "sensitivity_rule": 1}


def test_program_rejects_unknown_event_types(client: TestClient, session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    csrf = login(client, "admin@acme.example")
    r = client.post(
        "/api/v1/survey-programs",
        json={
            "key": "x1",
            "name": "x",
            "kind": "transactional",
            "survey_id": survey.id,
            "org_unit_id": org.unit("acme").id,
            "event_types": ["teleported"],
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert (
        r.status_code == 422 and "unknown event type 'teleported'" in r.json()["error"]["message"]
    )


def _event_body(org, **kw):
    return {
        "type": "store_visit",
        "org_unit_id": org.unit("store_a").id,
        "customer": {"identities": [{"kind": "email", "value": "hanako@cust.example"}]},
        "occurred_at": "2026-05-12T12:00:00+09:00",
        "touchpoint": "fitting room",
        **kw,
    }


def test_events_api_with_api_key(client: TestClient, session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("acme"), delay_minutes=30)
    make_customer(session, org.unit("store_a"), "hanako@cust.example")
    key = bearer(make_api_key(session, org.unit("east"), ["surveys:write", "surveys:read"]))
    r = client.post("/api/v1/events", json=_event_body(org, external_id="v-1"), headers=key)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["invitations"][0]["status"] == "pending"
    assert body["invitations"][0]["due_at"].startswith("2026-05-12T03:30:00")
    dup = client.post("/api/v1/events", json=_event_body(org, external_id="v-1"), headers=key)
    assert dup.status_code == 200 and dup.json()["duplicate"] is True
    bad = client.post("/api/v1/events", json=_event_body(org, type="teleported"), headers=key)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "type"
    naive = client.post(
        "/api/v1/events", json=_event_body(org, occurred_at="2026-05-12T12:00:00"), headers=key
    )
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "occurred_at"
    unknown = client.post(
        "/api/v1/events",
        json=_event_body(
            org, customer={"identities": [{"kind": "email", "value": "no@x.example"}]}
        ),
        headers=key,
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["field"] == "customer"
    other = client.post(
        "/api/v1/events", json=_event_body(org, org_unit_id=org.unit("store_c").id), headers=key
    )
    assert other.status_code == 404


def _respond(session, survey, customer, answers, unit, touchpoint=None):
    from cxloop.signals.survey_invitations import new_invitation
    from cxloop.signals.survey_responses import open_invitation, save_answers
    from cxloop.store.models.surveys import SurveyProgram

    program = session.scalar(select(SurveyProgram).where(SurveyProgram.survey_id == survey.id))
    inv = new_invitation(
        session=session,
        program=program,
        customer=customer,
        due_at=utcnow(),
        default_language="ja",
        org_unit_id=unit.id,
        touchpoint=touchpoint,
    )
    inv.status = "sent"
    form = open_invitation(session=session, inv=inv, now=utcnow())
    save_answers(session=session, form=form, given=answers, complete=True, now=utcnow())
    session.commit()
    return form.response


def test_responses_api_scoped_and_csv_export_is_safe_and_audited(
    client: TestClient, session: Session, org: Org
):
    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("acme"))
    ca = make_customer(session, org.unit("store_a"), "a@cust.example")
    cc = make_customer(session, org.unit("store_c"), "c@cust.example")
    ra = _respond(
        session,
        survey,
        ca,
        {
            "nps": 3,
            "why_low": '=HYPERLINK("x")',
            "csat": 2,
            "csat_fix": "wait",
            "channels": ["store", "web"],
        },
        org.unit("store_a"),
        "checkout",
    )
    _respond(session, survey, cc, {"nps": 10}, org.unit("store_c"))
    login(client, "manager_a@acme.example")
    listed = client.get(f"/api/v1/survey-responses?survey_id={survey.id}").json()
    assert [r["id"] for r in listed["data"]] == [ra.id]
    row = listed["data"][0]
    assert (row["nps"], row["csat"], row["ces"], row["touchpoint"]) == (3, 2, None, "checkout")
    assert row["customer_id"] == ca.id and row["org_unit_id"] == org.unit("store_a").id
    export = client.get(f"/api/v1/surveys/{survey.id}/responses.csv")
    assert export.status_code == 200
    assert export.text.startswith("\ufeffresponse_id,")  # a BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(export.text[1:])))
    assert len(rows) == 1
    assert rows[0]["q_why_low"] == '\'=HYPERLINK("x")'
    assert rows[0]["q_channels"] == "store;web"
    assert rows[0]["version"] == "1"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "export"))
    assert entry is not None and entry.detail == {"rows": 1}
    assert entry.target_type == "survey_responses" and entry.actor_label == "manager_a@acme.example"


def test_responses_keep_the_version_they_answered(client: TestClient, session: Session, org: Org):
    from cxloop.signals.survey_definitions import SurveyDefinition
    from cxloop.signals.surveys import set_definition

    survey = make_survey(session, org.unit("acme"))
    make_program(session, survey, org.unit("acme"))
    c = make_customer(session, org.unit("store_a"), "a@cust.example")
    old = _respond(session, survey, c, {"nps": 9, "comment": "良い"}, org.unit("store_a"))
    reworded = {**DEFINITION, "questions": [DEFINITION["questions"][0]]}
    v2 = set_definition(
        session=session, survey=survey, definition=SurveyDefinition.model_validate(reworded)
    )
    session.commit()
    new = _respond(session, survey, c, {"nps": 5}, org.unit("store_a"))
    assert old.version_id != new.version_id == v2.id
    login(client, "admin@acme.example")
    page = client.get(f"/surveys/responses/{old.id}")
    assert "その他ご意見は？" in page.text or "Anything else?" in page.text  # v1 question text
    assert client.get(f"/api/v1/survey-responses/{old.id}").json()["answers"] == {
        "nps": 9,
        "comment": "良い",
    }


def test_invitation_list_shows_reason_attempts_and_errors(client, session: Session, org: Org):
    survey = make_survey(session, org.unit("acme"))
    program = make_program(session, survey, org.unit("acme"))
    c = make_customer(session, org.unit("store_a"), "a@cust.example")
    from cxloop.signals.survey_invitations import new_invitation

    inv = new_invitation(
        session=session, program=program, customer=c, due_at=utcnow(), default_language="en"
    )
    inv.status, inv.attempts, inv.last_error = "sending", 3, "SMTP 127.0.0.1:25: refused"
    session.commit()
    login(client, "admin@acme.example")
    data = client.get(f"/api/v1/survey-invitations?survey_id={survey.id}").json()["data"]
    assert (data[0]["status"], data[0]["attempts"]) == ("sending", 3)
    assert data[0]["last_error"] == "SMTP 127.0.0.1:25: refused"
    page = client.get(f"/surveys/{survey.id}")
    assert "SMTP 127.0.0.1:25: refused" in page.text
    assert session.scalar(select(SurveyInvitation.id)) == inv.id
