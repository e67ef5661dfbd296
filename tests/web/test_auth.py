"""Login with CSRF, lock-out, expiry and logout; CSRF on every cookie-authenticated change."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.auth import AuditEntry, WebSession
from cxloop.store.models.org import User
from tests.conftest import PASSWORD, Org, form_token, login


def _login_token(client: TestClient) -> str:
    return form_token(client, "/login")


def _post_login(client: TestClient, email: str, password: str, token: str | None = None):
    data = {"email": email, "password": password, "csrf_token": token or _login_token(client)}
    return client.post("/login", data=data, follow_redirects=False)


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_login_sets_an_httponly_session_and_audits(client: TestClient, session: Session, org: Org):
    r = _post_login(client, "manager_a@acme.example", PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert "cxloop_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert client.get("/api/v1/me").json()["role"] == "manager"
    assert "login" in _actions(session)


def test_wrong_password_is_refused_and_audited(client: TestClient, session: Session, org: Org):
    r = _post_login(client, "manager_a@acme.example", "wrong password")
    assert r.status_code == 401
    assert "Wrong e-mail or password" in r.text
    assert client.get("/api/v1/me").status_code == 401
    assert _actions(session) == ["login_failed"]


def test_login_without_csrf_token_is_refused(client: TestClient, org: Org):
    client.get("/login")
    r = client.post(
        "/login",
        data={"email": "admin@acme.example", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_lock_out_after_repeated_failures(client: TestClient, session: Session, org: Org, settings):
    for _ in range(settings.login_max_failures):
        assert _post_login(client, "exec@acme.example", "nope").status_code == 401
    # Now even the right password is refused until the lock expires.
    r = _post_login(client, "exec@acme.example", PASSWORD)
    assert r.status_code == 429
    assert "Too many failed attempts" in r.text
    assert "login_locked" in _actions(session)
    session.execute(
        update(User).where(User.email == "exec@acme.example").values(locked_until=utcnow())
    )
    session.commit()
    assert _post_login(client, "exec@acme.example", PASSWORD).status_code == 303


def test_expired_session_goes_back_to_login(client: TestClient, session: Session, org: Org):
    login(client, "admin@acme.example")
    session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert client.get("/api/v1/me").status_code == 401


def test_logout_ends_the_session_server_side(client: TestClient, org: Org):
    csrf = login(client, "admin@acme.example")
    stolen = client.cookies.get("cxloop_session")
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    client.cookies.set("cxloop_session", stolen)
    assert client.get("/api/v1/me").status_code == 401


def test_cookie_changes_need_the_csrf_token(client: TestClient, session: Session, org: Org):
    csrf = login(client, "admin@acme.example")
    body = {"role": "manager", "unit_ids": [org.unit("store_b").id]}
    target = f"/api/v1/users/{org.users['manager_a'].id}/access"
    r = client.put(target, json=body)
    assert r.status_code == 403
    assert r.json()["error"] == {
        "code": "csrf",
        "message": "missing or invalid CSRF token",
        "field": "csrf_token",
    }
    r = client.put(target, json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    assert r.json()["unit_ids"] == [org.unit("store_b").id]
    assert "permission_change" in _actions(session)


def test_next_parameter_cannot_redirect_off_site(client: TestClient, org: Org):
    token = _login_token(client)
    r = client.post(
        "/login",
        data={
            "email": "admin@acme.example",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_language_follows_accept_language_then_user_setting(client: TestClient, org: Org):
    r = client.get("/login", headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})
    assert "ログイン" in r.text and '<html lang="ja">' in r.text
    csrf = login(client, "manager_a@acme.example")
    assert "Signals" in client.get("/").text
    client.post("/settings/language", data={"language": "ja", "csrf_token": csrf})
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "シグナル" in page.text and '<html lang="ja">' in page.text


def test_unit_switcher_narrows_to_a_visible_unit_only(client: TestClient, org: Org):
    csrf = login(client, "east_manager@acme.example")
    home = client.get("/").text
    assert "Store A" in home and "Store C" not in home
    r = client.post(
        "/settings/unit",
        data={"unit_id": str(org.unit("store_c").id), "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 404
    client.post("/settings/unit", data={"unit_id": str(org.unit("store_a").id), "csrf_token": csrf})
    units = [u["code"] for u in client.get("/api/v1/org-units").json()["data"]]
    assert units == ["store_a"]
