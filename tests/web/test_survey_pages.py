"""Survey admin pages: list, sensitivity rules, the question editor; both languages."""

import json

from sqlalchemy import select

from cxloop.store.models.surveys import SensitivityRuleRow, SurveyVersion
from tests.conftest import login
from tests.survey_helpers import make_survey


def test_list_and_detail_in_english_and_japanese(client, session, org):
    survey = make_survey(session, org.unit("acme"), anonymous=True)
    csrf = login(client, "admin@acme.example")
    page = client.get("/surveys")
    assert page.status_code == 200 and "Survey store-nps" in page.text
    detail = client.get(f"/surveys/{survey.id}")
    assert f"/s/p/{survey.public_token}" in detail.text and "&lt;iframe" in detail.text
    client.post("/settings/language", data={"language": "ja", "csrf_token": csrf, "next": "/"})
    ja = client.get("/surveys")
    assert "アンケート store-nps" in ja.text and "回答数" in ja.text


def test_sensitivity_rule_page(client, session, org):
    csrf = login(client, "admin@acme.example")
    bad = client.post(
        "/surveys/sensitivity-rules",
        data={
            "csrf_token": csrf,
            "name": "Storm",
            "attribute": "industry",
            "values": "travel",
            "start": "2026-06-10",
            "end": "2026-06-01",
            "reason": "storm",
        },
    )
    assert bad.status_code == 422 and "end: " in bad.text and "ends before it starts" in bad.text
    ok = client.post(
        "/surveys/sensitivity-rules",
        data={
            "csrf_token": csrf,
            "name": "Storm",
            "attribute": "industry",
            "values": "travel, hospitality",
            "start": "2026-06-01",
            "end": "2026-06-10",
            "reason": "storm <b>warning</b>",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    row = session.scalar(select(SensitivityRuleRow))
    assert row.values == ["travel", "hospitality"] and row.created_by == "admin@acme.example"
    listed = client.get("/surveys/sensitivity-rules")
    assert "storm &lt;b&gt;warning&lt;/b&gt;" in listed.text
    client.post(f"/surveys/sensitivity-rules/{row.id}/toggle", data={"csrf_token": csrf})
    session.refresh(row)
    assert row.active is False
    # Without the CSRF token nothing changes.
    assert client.post(f"/surveys/sensitivity-rules/{row.id}/toggle").status_code == 403


def test_question_editor_makes_a_new_version_and_names_errors(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    csrf = login(client, "admin@acme.example")
    broken = client.post(
        f"/surveys/{survey.id}/edit", data={"csrf_token": csrf, "definition": '{"questions": ['}
    )
    assert broken.status_code == 422 and "JSON, line 1" in broken.text
    invalid = client.post(
        f"/surveys/{survey.id}/edit",
        data={
            "csrf_token": csrf,
            "definition": '{"questions": [{"id": "q", "type": "csat", "text": {"en": "x"}}]}',
        },
    )
    assert invalid.status_code == 422 and "questions.0.text.ja" in invalid.text
    ok = client.post(
        f"/surveys/{survey.id}/edit",
        data={
            "csrf_token": csrf,
            "definition": json.dumps(
                {"questions": [{"id": "q", "type": "csat", "text": {"en": "x", "ja": "エックス"}}]}
            ),
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303
    numbers = session.scalars(
        select(SurveyVersion.number).where(SurveyVersion.survey_id == survey.id)
    ).all()
    assert sorted(numbers) == [1, 2]


def test_frontline_cannot_open_survey_pages(client, session, org):
    make_survey(session, org.unit("acme"))
    login(client, "frontline_a@acme.example")
    assert client.get("/surveys").status_code == 403
