"""Rotating ``CXLOOP_SECRET_KEY``: links, form keys and session cookies signed with a
previous key (``CXLOOP_PREVIOUS_SECRET_KEYS``) keep working; only the current key signs."""

import pytest
from sqlalchemy import select

from cxloop.config import Settings, SettingsError, load_settings
from cxloop.signals.survey_invitations import invitation_token
from cxloop.signals.survey_mail import build_invitation_mail
from cxloop.store.models.surveys import Survey, SurveyResponse, SurveyUnsubscribe
from tests.conftest import login
from tests.web.test_survey_form import _key, _link

OLD = "old-secret-" + "o" * 40
NEW = "new-secret-" + "n" * 40
UNKNOWN = "unknown-secret-" + "u" * 40


def _with_key(settings: Settings, key: str, previous: str | None = None) -> Settings:
    """The same deployment signing with ``key``; ``previous`` keys still verify."""
    return load_settings(
        env="test",
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        secret_key=key,
        previous_secret_keys=previous,
        workers=0,
    )


def _rotated(settings: Settings, previous: str | None) -> Settings:
    return _with_key(settings, NEW, previous)


def test_key_ring_puts_the_current_key_first(settings):
    rotated = _rotated(settings, f" {UNKNOWN} ,,{OLD},{NEW}")
    assert rotated.secret_keys == (NEW, UNKNOWN, OLD)
    assert _rotated(settings, None).secret_keys == (NEW,)


def test_weak_previous_key_is_refused_in_production(tmp_path):
    with pytest.raises(SettingsError, match="CXLOOP_PREVIOUS_SECRET_KEYS"):
        load_settings(
            env="production", data_dir=tmp_path, secret_key=NEW, previous_secret_keys="short"
        )


def test_links_form_keys_and_sessions_survive_a_rotation(client, app, session, org, settings):
    app.state.settings = _with_key(settings, OLD)
    inv, _ = _link(session, org, settings)
    url = f"/s/{invitation_token(OLD, inv)}"
    login(client, "admin@acme.example")
    form_key = _key(client.get(url).text)

    app.state.settings = rotated = _rotated(settings, f"{UNKNOWN},{OLD}")
    page = client.get(url)
    assert page.status_code == 200 and "当店を薦める可能性は？" in page.text
    answer = client.post(f"{url}/answer?q=nps", data={"form_key": form_key, "q_nps": "4"})
    assert answer.status_code == 200, answer.text
    stored = session.scalar(select(SurveyResponse).where(SurveyResponse.invitation_id == inv.id))
    assert stored is not None and stored.answers == {"nps": 4}
    # The admin's session cookie, signed before the rotation, still opens the admin pages.
    assert client.get("/surveys", follow_redirects=False).status_code == 200
    survey = session.scalar(select(Survey))
    # New mail is signed with the current key only.
    mail = build_invitation_mail(
        settings=rotated, inv=inv, survey=survey, name=None, address="hanako@cust.example"
    )
    assert f"/s/{invitation_token(NEW, inv)}" in mail.text
    assert invitation_token(OLD, inv) not in mail.text
    # The whole form is submitted through the old link with the old form key.
    submitted = client.post(
        f"{url}?lang=ja", data={"form_key": form_key, "q_nps": "4"}, follow_redirects=False
    )
    assert submitted.status_code == 303 and submitted.headers["location"].endswith(
        "/thanks?lang=ja"
    )
    session.refresh(stored)
    assert stored.status == "complete"
    # The unsubscribe link of the old e-mail works too.
    unsub = client.get(f"{url}/unsubscribe")
    assert unsub.status_code == 200
    done = client.post(f"{url}/unsubscribe", data={"form_key": _key(unsub.text)})
    assert done.status_code == 200
    assert session.scalar(select(SurveyUnsubscribe.invitation_id)) == inv.id


def test_unknown_key_gets_the_friendly_invalid_link_page(client, app, session, org, settings):
    inv, _ = _link(session, org, settings, language="en")
    app.state.settings = _rotated(settings, OLD)
    page = client.get(f"/s/{invitation_token(UNKNOWN, inv)}")
    assert page.status_code == 404
    assert "This survey link is not valid" in page.text and "<html" in page.text
    # Without the previous key in the ring, a rotation does invalidate the old links.
    app.state.settings = _rotated(settings, None)
    assert client.get(f"/s/{invitation_token(OLD, inv)}").status_code == 404
    app.state.settings = _rotated(settings, OLD)
    assert client.get(f"/s/{invitation_token(OLD, inv)}").status_code == 200


def test_session_cookie_signed_with_an_unknown_key_is_not_a_login(client, app, org, settings):
    login(client, "admin@acme.example")
    app.state.settings = _rotated(settings, UNKNOWN)
    page = client.get("/surveys", follow_redirects=False)
    assert page.status_code in (302, 303, 307) and "/login" in page.headers["location"]


def test_form_key_from_an_unknown_key_is_refused(client, app, session, org, settings):
    inv, _ = _link(session, org, settings)
    app.state.settings = _with_key(settings, UNKNOWN)
    url = f"/s/{invitation_token(UNKNOWN, inv)}"
    forged = _key(client.get(url).text)
    app.state.settings = _rotated(settings, OLD)
    r = client.post(f"/s/{invitation_token(NEW, inv)}/answer?q=nps", data={"form_key": forged})
    assert r.status_code == 403 and "expired" in r.text
