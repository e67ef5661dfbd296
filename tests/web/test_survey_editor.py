"""The question editor's logic panel: conditions in words, server-side validation that
names the question, and the "try it" preview (htmx fragment and plain form post)."""

import copy
import json
import re

import pytest

from tests.conftest import browser_login, login
from tests.survey_helpers import DEFINITION, make_survey


def _rows(html: str) -> dict[str, str]:
    """question id → "true"/"false": whether the preview shows it."""
    return dict(re.findall(r'<tr data-qid="(\w+)" data-shown="(true|false)"', html))


def test_editor_shows_each_condition_in_words(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    login(client, "admin@acme.example")
    page = client.get(f"/surveys/{survey.id}/edit")
    assert page.status_code == 200
    assert "shown when Q1 (NPS) ≤ 6" in page.text
    assert "shown when Q3 (CSAT) ≤ 2" in page.text
    assert "always shown" in page.text
    # Nothing answered yet: the follow-ups are hidden.
    assert _rows(page.text)["why_low"] == "false" and _rows(page.text)["nps"] == "true"
    assert f'hx-post="/surveys/{survey.id}/edit/preview"' in page.text
    assert "<script>" not in page.text


def test_try_it_with_htmx_returns_the_panel_for_the_sample_answers(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    csrf = login(client, "admin@acme.example")
    draft = copy.deepcopy(DEFINITION)
    draft["questions"][0]["text"]["en"] = "Would you <b>recommend</b> us?"
    body = {"csrf_token": csrf, "definition": json.dumps(draft), "s_nps": "3", "s_csat": "5"}
    r = client.post(f"/surveys/{survey.id}/edit/preview", data=body, headers={"HX-Request": "true"})
    assert r.status_code == 200
    assert r.text.lstrip().startswith('<section id="logic-preview"') and "<html" not in r.text
    rows = _rows(r.text)
    assert rows["why_low"] == "true" and rows["csat_fix"] == "false"
    assert '<option value="3" selected>' in r.text  # the sample stays picked
    assert "Would you &lt;b&gt;recommend&lt;/b&gt; us?" in r.text  # the draft, escaped
    promoter = client.post(
        f"/surveys/{survey.id}/edit/preview",
        data={**body, "s_nps": "10", "s_csat": "1"},
        headers={"HX-Request": "true"},
    )
    rows = _rows(promoter.text)
    assert rows["why_low"] == "false" and rows["csat_fix"] == "true"


def test_preview_without_script_renders_the_whole_editor(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    csrf = login(client, "admin@acme.example")
    body = {"csrf_token": csrf, "definition": json.dumps(DEFINITION), "s_nps": "0"}
    r = client.post(f"/surveys/{survey.id}/edit/preview", data=body)
    assert r.status_code == 200 and "<html" in r.text
    assert _rows(r.text)["why_low"] == "true"
    assert "&#34;id&#34;: &#34;nps&#34;" in r.text  # the draft stays in the textarea


def test_bad_logic_is_named_on_save_and_in_the_preview(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    csrf = login(client, "admin@acme.example")
    later = copy.deepcopy(DEFINITION)
    later["questions"][1]["show_if"] = {"question": "csat", "op": "lte", "value": 2}
    saved = client.post(
        f"/surveys/{survey.id}/edit", data={"csrf_token": csrf, "definition": json.dumps(later)}
    )
    assert saved.status_code == 422
    assert "questions[1] (why_low): show_if refers to &#39;csat&#39;, which comes later" in (
        saved.text
    )
    impossible = copy.deepcopy(DEFINITION)
    impossible["questions"][1]["show_if"] = {"question": "nps", "op": "gte", "value": 11}
    preview = client.post(
        f"/surveys/{survey.id}/edit/preview",
        data={"csrf_token": csrf, "definition": json.dumps(impossible)},
        headers={"HX-Request": "true"},
    )
    assert preview.status_code == 200  # htmx swaps only successful answers
    assert "why_low" in preview.text and "never ≥ 11" in preview.text
    assert "data-shown" not in preview.text
    plain = client.post(
        f"/surveys/{survey.id}/edit/preview",
        data={"csrf_token": csrf, "definition": json.dumps(impossible)},
    )
    assert plain.status_code == 422 and "never ≥ 11" in plain.text


def test_preview_needs_write_permission_and_csrf(client, session, org):
    survey = make_survey(session, org.unit("acme"))
    body = {"definition": json.dumps(DEFINITION)}
    anonymous = client.post(f"/surveys/{survey.id}/edit/preview", data=body, follow_redirects=False)
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    login(client, "admin@acme.example")
    assert client.post(f"/surveys/{survey.id}/edit/preview", data=body).status_code == 403
    client.cookies.clear()
    csrf = login(client, "east_manager@acme.example")
    denied = client.post(f"/surveys/{survey.id}/edit/preview", data={**body, "csrf_token": csrf})
    assert denied.status_code == 403


@pytest.mark.browser
def test_try_it_in_chromium_updates_as_answers_are_picked(live_server, browser, session, org):
    survey = make_survey(session, org.unit("acme"))
    page = browser.new_context(locale="en-US").new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server.url)
    page.goto(f"{live_server.url}/surveys/{survey.id}/edit")
    why_low = 'tr[data-qid="why_low"]'
    assert page.locator(why_low).get_attribute("data-shown") == "false"
    assert "shown when Q1 (NPS) ≤ 6" in page.locator(why_low).inner_text()
    page.select_option('select[name="s_nps"]', "2")
    page.wait_for_selector(f'{why_low}[data-shown="true"]')
    page.select_option('select[name="s_nps"]', "9")
    page.wait_for_selector(f'{why_low}[data-shown="false"]')
    # Logic edited in the textarea (not saved) drives the preview too.
    draft = copy.deepcopy(DEFINITION)
    draft["questions"][1]["show_if"] = {"question": "nps", "op": "gte", "value": 9}
    page.fill("#definition", json.dumps(draft))
    page.select_option('select[name="s_csat"]', "4")
    page.wait_for_selector(f'{why_low}[data-shown="true"]')
    assert "shown when Q1 (NPS) ≥ 9" in page.locator(why_low).inner_text()
    assert errors == []
