"""Real Chromium: open a personal link, answer in Japanese, see the response as admin."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from cxloop.signals.survey_invitations import invitation_token, new_invitation
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyResponse
from tests.conftest import browser_login
from tests.survey_helpers import make_customer, make_program, make_survey


@pytest.mark.browser
def test_answer_in_japanese_and_see_it_in_the_admin_view(
    live_server, browser, session, org, settings
):
    survey = make_survey(session, org.unit("acme"))
    program = make_program(session, survey, org.unit("acme"))
    customer = make_customer(session, org.unit("store_a"), "hanako@cust.example", language="ja")
    inv = new_invitation(
        session=session,
        program=program,
        customer=customer,
        due_at=utcnow(),
        default_language="en",
        touchpoint="レジ",
    )
    inv.status, inv.expires_at = "sent", utcnow() + timedelta(days=7)
    session.commit()
    url = f"{live_server.url}/s/{invitation_token(settings.resolved_secret_key, inv)}"

    context = browser.new_context(locale="ja-JP", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    assert page.locator("html").get_attribute("lang") == "ja"
    follow_up = page.locator("fieldset#q-why_low")
    assert not follow_up.is_visible()  # only for detractors
    page.locator("fieldset#q-nps label.sv-point", has_text="3").first.click()
    page.wait_for_selector("fieldset#q-why_low:not(.sv-off)")
    page.locator("#t-why_low").fill("レジの待ち時間が長かったです")
    page.locator("#t-why_low").blur()
    page.wait_for_selector('form[data-saved-count="2"]')
    assert page.locator("[data-progress]").inner_text() == "回答を保存しました。"
    # Keyboard only: focus the first CSAT point and move with the arrow key.
    page.locator('input[name="q_csat"][value="1"]').focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('form[data-saved-count="3"]')
    saved = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    session.refresh(saved)
    assert saved.answers == {"nps": 3, "why_low": "レジの待ち時間が長かったです", "csat": 2}
    page.get_by_role("button", name="回答を送信する").click()
    page.wait_for_url("**/thanks?lang=ja")
    assert "ご回答ありがとうございました！" in page.content()
    assert errors == []

    admin = browser.new_context(locale="ja-JP").new_page()
    browser_login(admin, live_server.url)
    admin.goto(f"{live_server.url}/surveys/{survey.id}")
    table = admin.locator("[data-testid=responses]")
    assert "レジの待ち時間が長かったです" in table.inner_text()
    assert "3" in table.locator("tbody tr").first.inner_text()
    admin.locator("[data-testid=responses] tbody tr a").first.click()
    answers = admin.locator("[data-testid=answers]").inner_text()
    assert "レジの待ち時間が長かったです" in answers
    context.close()
