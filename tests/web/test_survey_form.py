"""The hosted form: personal links, answers saved one by one, used/closed/expired links,
unsubscribe, the public link and the widget."""

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.survey_invitations import invitation_token, new_invitation
from cxloop.store.base import utcnow
from cxloop.store.models.surveys import SurveyInvitation, SurveyResponse, SurveyUnsubscribe
from tests.conftest import Org
from tests.survey_helpers import make_customer, make_program, make_survey


def _link(session: Session, org: Org, settings, *, language="ja", status="live"):
    survey = make_survey(session, org.unit("acme"), status=status)
    program = make_program(session, survey, org.unit("acme"))
    customer = make_customer(session, org.unit("store_a"), "hanako@cust.example", language=language)
    inv = new_invitation(
        session=session,
        program=program,
        customer=customer,
        due_at=utcnow(),
        default_language="en",
        touchpoint="checkout",
    )
    inv.status, inv.sent_at, inv.expires_at = "sent", utcnow(), utcnow() + timedelta(days=14)
    session.commit()
    return inv, f"/s/{invitation_token(settings.resolved_secret_key, inv)}"


def _key(html: str) -> str:
    return re.search(r'name="form_key" value="([^"]+)"', html).group(1)


def test_form_in_the_customers_language_with_accessible_markup(client, session, org, settings):
    _, url = _link(session, org, settings)
    page = client.get(url)
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "当店を薦める可能性は？" in page.text
    assert "<fieldset" in page.text and "<legend>" in page.text
    assert "data-conditional" in page.text  # the detractor follow-up
    assert "/static/js/surveys.js" in page.text and "<script>" not in page.text
    en = client.get(url + "?lang=en")
    assert '<html lang="en">' in en.text and "How likely are you to recommend us?" in en.text


def test_each_answer_is_saved_and_logic_is_returned(client, session, org, settings):
    inv, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    r = client.post(f"{url}/answer?q=nps", data={"form_key": key, "q_nps": "3"})
    assert r.status_code == 200, r.text
    assert "why_low" in r.json()["visible"]
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    assert (response.status, response.answers, response.language) == ("partial", {"nps": 3}, "ja")
    r = client.post(f"{url}/answer?q=nps", data={"form_key": key, "q_nps": "9"})
    assert "why_low" not in r.json()["visible"]
    # Reloading the page shows the saved answer.
    assert 'value="9" checked' in client.get(url).text


def test_invalid_answer_is_a_422_naming_the_question(client, session, org, settings):
    _, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    r = client.post(f"{url}/answer?q=nps", data={"form_key": key, "q_nps": "11"})
    assert r.status_code == 422
    assert r.json()["error"] == {
        "code": "invalid",
        "message": "must be between 0 and 10",
        "field": "nps",
    }
    r = client.post(url, data={"form_key": key, "q_ces": "9"})
    assert r.status_code == 422
    assert 'id="err-ces"' in r.text and "must be between 1 and 7" in r.text
    missing = client.post(url, data={"form_key": key, "q_csat": "4"})
    assert missing.status_code == 422 and 'id="err-nps"' in missing.text


def test_submit_then_resubmit_keeps_the_first_answer(client, session, org, settings):
    inv, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    first = client.post(
        url,
        data={
            "form_key": key,
            "q_nps": "4",
            "q_why_low": "レジが混んでいた",
            "q_csat": "2",
            "q_csat_fix": "wait",
            "q_ces": "5",
            "q_channels": ["store", "web"],
            "q_stars": "3",
            "q_comment": "<script>alert(1)</script>",
        },
        follow_redirects=False,
    )
    assert first.status_code == 303 and first.headers["location"] == f"{url}/thanks?lang=ja"
    thanks = client.get(first.headers["location"])
    assert "ご回答ありがとうございました！" in thanks.text
    again = client.post(url, data={"form_key": key, "q_nps": "10"}, follow_redirects=False)
    assert again.status_code == 409
    assert "最初のご回答を受け付けており、そちらが有効です" in again.text
    reopened = client.get(url)
    assert reopened.status_code == 200 and "すでにご回答いただいています" in reopened.text
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    assert (response.status, response.nps, response.csat, response.ces) == ("complete", 4, 2, 5)
    assert response.answers["channels"] == ["store", "web"]
    assert response.comment == "レジが混んでいた\n\n<script>alert(1)</script>"
    assert response.touchpoint == "checkout" and response.program_id == inv.program_id
    session.refresh(inv)
    assert inv.responded_on is not None
    # The comment becomes a feedback record (source survey_comment) with sentiment,
    # by the job, not in the request.
    from cxloop.jobs import JobContext
    from cxloop.signals.survey_tasks import survey_comments_to_feedback
    from cxloop.store.models.feedback import Feedback

    assert response.comment_pending is True and response.feedback_ids == []
    assert survey_comments_to_feedback(JobContext(settings)) == 1
    assert survey_comments_to_feedback(JobContext(settings)) == 0
    session.refresh(response)

    (fb,) = session.scalars(select(Feedback)).all()
    assert response.feedback_ids == [str(fb.id)]
    assert (fb.source, fb.customer_id, fb.rating, fb.rating_scale) == (
        "survey_comment",
        inv.customer_id,
        4.0,
        10,
    )
    assert fb.org_unit_id == org.unit("store_a").id and fb.touchpoint == "checkout"
    assert fb.sentiment_label in ("negative", "neutral", "positive", "mixed")


def test_closed_expired_and_invalid_links_get_friendly_pages(client, session, org, settings):
    inv, url = _link(session, org, settings)
    inv.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    expired = client.get(url)
    assert expired.status_code == 410 and "有効期限切れ" in expired.text
    bad = client.get(url[:-3] + "xyz")
    assert bad.status_code == 404 and "<html" in bad.text
    assert client.get("/s/12345.nope").status_code == 404


def test_closed_survey(client, session, org, settings):
    _, url = _link(session, org, settings, status="closed", language="en")
    page = client.get(url)
    assert page.status_code == 410 and "This survey is closed" in page.text


def test_form_key_is_required_and_bound_to_the_link(client, session, org, settings):
    _, url = _link(session, org, settings)
    assert client.post(f"{url}/answer?q=nps", data={"q_nps": "3"}).status_code == 403
    forged = client.post(f"{url}/answer?q=nps", data={"form_key": "x.y.z", "q_nps": "3"})
    assert forged.status_code == 403


def test_oversized_posts_are_refused(client, session, org, settings):
    _, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    r = client.post(f"{url}/answer?q=comment", data={"form_key": key, "q_comment": "x" * 70_000})
    assert r.status_code == 413


def test_unsubscribe_link(client, session, org, settings):
    inv, url = _link(session, org, settings)
    page = client.get(f"{url}/unsubscribe")
    assert "配信を停止する" in page.text
    done = client.post(f"{url}/unsubscribe", data={"form_key": _key(page.text)})
    assert done.status_code == 200 and "配信を停止しました" in done.text
    row = session.scalar(select(SurveyUnsubscribe))
    assert row is not None and row.customer_id == inv.customer_id


def test_public_link_and_widget_for_anonymous_surveys(client, session, org, settings):
    survey = make_survey(session, org.unit("store_a"), key="web-feedback", anonymous=True)
    page = client.get(f"/s/p/{survey.public_token}", headers={"Accept-Language": "ja"})
    assert page.status_code == 200 and '<html lang="ja">' in page.text
    key = _key(page.text)
    base = f"/s/p/{survey.public_token}"
    assert (
        client.post(f"{base}/answer?q=nps", data={"form_key": key, "q_nps": "8"}).status_code == 200
    )
    done = client.post(base, data={"form_key": key, "q_nps": "8"}, follow_redirects=False)
    assert done.status_code == 303
    (resp,) = session.scalars(select(SurveyResponse)).all()
    assert (resp.status, resp.channel, resp.nps, resp.customer_id) == ("complete", "link", 8, None)
    assert resp.org_unit_id == org.unit("store_a").id
    # The same form cannot be submitted twice; a fresh visitor gets a fresh form.
    assert client.post(base, data={"form_key": key, "q_nps": "1"}).status_code == 409
    widget = client.get(f"/s/w/{survey.public_token}")
    csp = widget.headers["content-security-policy"]
    assert "frame-ancestors *" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in client.get(base).headers["content-security-policy"]
    survey.embed_origins = ["https://shop.example"]
    session.commit()
    csp = client.get(f"/s/w/{survey.public_token}").headers["content-security-policy"]
    assert "frame-ancestors https://shop.example;" in csp


def test_public_link_refused_for_personal_surveys(client, session, org):
    survey = make_survey(session, org.unit("acme"), key="personal-only")
    assert client.get(f"/s/p/{survey.public_token}").status_code == 404


def test_rate_limit_per_link(client, session, org, settings):
    _, url = _link(session, org, settings)
    key = _key(client.get(url).text)
    codes = [
        client.post(f"{url}/answer?q=nps", data={"form_key": key, "q_nps": "5"}).status_code
        for _ in range(61)
    ]
    assert codes[:60] == [200] * 60 and codes[60] == 429
    assert session.scalar(select(SurveyInvitation.id)) is not None
