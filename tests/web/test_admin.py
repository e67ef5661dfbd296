"""Administering people, API keys and the audit log: API and pages, inside the caller's scope."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.auth import ApiKey, AuditEntry
from cxloop.store.models.org import User
from cxloop.store.org import create_user
from tests.conftest import (
    PASSWORD,
    Org,
    bearer,
    browser_login,
    browser_page,
    form_token,
    login,
    make_api_key,
)

NEW_PASSWORD = "a brand new passphrase"


def _csrf(client: TestClient, email: str) -> dict[str, str]:
    return {"X-CSRF-Token": login(client, email)}


def _east_admin(session: Session, org: Org) -> User:
    user = create_user(
        session=session,
        email="east_admin@acme.example",
        name="east admin",
        role="admin",
        units=[org.unit("east")],
        password=PASSWORD,
    )
    session.commit()
    return user


def _audit(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def _login_status(client: TestClient, email: str, password: str) -> int:
    token = form_token(client, "/login")
    r = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return r.status_code


def test_admin_creates_a_user_who_can_log_in(client: TestClient, session: Session, org: Org):
    headers = _csrf(client, "admin@acme.example")
    body = {
        "email": "New.Person@acme.example",
        "name": "New Person",
        "role": "manager",
        "unit_ids": [org.unit("store_b").id],
        "password": NEW_PASSWORD,
        "language": "ja",
    }
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["email"] == "new.person@acme.example"
    assert created["unit_ids"] == [org.unit("store_b").id] and created["is_active"] is True
    assert "password" not in r.text and "password_hash" not in r.text
    [entry] = _audit(session, "user_created")
    assert entry.target_id == str(created["id"]) and entry.org_unit_id == org.unit("store_b").id

    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "email"
    assert "already exists" in r.json()["error"]["message"]

    other = TestClient(client.app)
    assert _login_status(other, "new.person@acme.example", NEW_PASSWORD) == 303
    me = other.get("/api/v1/me").json()
    assert me["role"] == "manager" and me["language"] == "ja"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password": "short"}, "password"),
        ({"role": "owner"}, "role"),
        ({"language": "fr"}, "language"),
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_bad_user_input_names_the_field(client: TestClient, org: Org, change, field):
    headers = _csrf(client, "admin@acme.example")
    body = {
        "email": "someone@acme.example",
        "role": "frontline",
        "unit_ids": [org.unit("store_a").id],
        "password": NEW_PASSWORD,
    } | change
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field


def test_a_regional_admin_stays_inside_the_region(client: TestClient, session: Session, org: Org):
    _east_admin(session, org)
    headers = _csrf(client, "east_admin@acme.example")
    listed = {u["email"] for u in client.get("/api/v1/users?limit=100").json()["data"]}
    assert "manager_a@acme.example" in listed and "east_manager@acme.example" in listed
    assert "manager_c@acme.example" not in listed and "admin@acme.example" not in listed

    body = {
        "email": "west.person@acme.example",
        "role": "frontline",
        "unit_ids": [org.unit("store_c").id],
        "password": NEW_PASSWORD,
    }
    r = client.post("/api/v1/users", json=body, headers=headers)
    assert r.status_code == 404 and r.json()["error"]["field"] == "unit_ids"

    # Users outside the region are invisible; a user who also belongs to the west is visible
    # but cannot be changed from the east.
    r = client.patch(
        f"/api/v1/users/{org.users['manager_c'].id}", json={"is_active": False}, headers=headers
    )
    assert r.status_code == 404
    both = create_user(
        session=session,
        email="both@acme.example",
        name="both",
        role="manager",
        units=[org.unit("store_a"), org.unit("store_c")],
    )
    session.commit()
    r = client.put(
        f"/api/v1/users/{both.id}/access",
        json={"role": "manager", "unit_ids": [org.unit("store_a").id]},
        headers=headers,
    )
    assert r.status_code == 403
    session.expire_all()
    assert sorted(session.get(User, both.id).unit_ids) == sorted(  # type: ignore[union-attr]
        [org.unit("store_a").id, org.unit("store_c").id]
    )


def test_deactivating_ends_sessions_and_reactivating_restores(
    client: TestClient, session: Session, org: Org
):
    victim = TestClient(client.app)
    login(victim, "manager_a@acme.example")
    assert victim.get("/api/v1/me").status_code == 200

    headers = _csrf(client, "admin@acme.example")
    target = f"/api/v1/users/{org.users['manager_a'].id}"
    r = client.patch(target, json={"is_active": False}, headers=headers)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert victim.get("/api/v1/me").status_code == 401
    assert _login_status(TestClient(client.app), "manager_a@acme.example", PASSWORD) == 401
    assert len(_audit(session, "user_deactivated")) == 1

    r = client.patch(target, json={"is_active": True}, headers=headers)
    assert r.json()["is_active"] is True
    assert _login_status(TestClient(client.app), "manager_a@acme.example", PASSWORD) == 303

    me = client.get("/api/v1/me").json()
    r = client.patch(f"/api/v1/users/{me['id']}", json={"is_active": False}, headers=headers)
    assert r.status_code == 403 and r.json()["error"]["field"] == "is_active"


def test_unlock_and_new_password(client: TestClient, session: Session, org: Org):
    stranger = TestClient(client.app)
    for _ in range(5):  # login_max_failures
        _login_status(stranger, "frontline_a@acme.example", "wrong password!")
    assert _login_status(stranger, "frontline_a@acme.example", PASSWORD) == 429  # locked

    headers = _csrf(client, "admin@acme.example")
    target = f"/api/v1/users/{org.users['frontline_a'].id}"
    listed = client.get("/api/v1/users?q=frontline").json()["data"]
    assert [u["locked"] for u in listed] == [True]
    assert client.patch(target, json={"unlock": True}, headers=headers).json()["locked"] is False
    assert _login_status(stranger, "frontline_a@acme.example", PASSWORD) == 303

    r = client.patch(target, json={"password": "too short"}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "password"
    r = client.patch(target, json={"password": NEW_PASSWORD}, headers=headers)
    assert r.status_code == 200
    assert stranger.get("/api/v1/me").status_code == 401  # the open session ended
    assert _login_status(stranger, "frontline_a@acme.example", PASSWORD) == 401
    assert _login_status(stranger, "frontline_a@acme.example", NEW_PASSWORD) == 303
    assert [e.action for e in _audit(session, "password_reset")] == ["password_reset"]


def test_api_keys_are_shown_once_scoped_and_revocable(
    client: TestClient, session: Session, org: Org
):
    headers = _csrf(client, "admin@acme.example")
    body = {"name": "crm sync", "scopes": ["feedback:read"], "org_unit_id": org.unit("east").id}
    r = client.post("/api/v1/api-keys", json=body, headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith("cxk_") and created["scopes"] == ["feedback:read"]
    listed = client.get("/api/v1/api-keys").json()["data"]
    assert [k["prefix"] for k in listed] == [created["prefix"]]
    assert key not in client.get("/api/v1/api-keys").text

    keyed = TestClient(client.app)
    me = keyed.get("/api/v1/me", headers=bearer(key)).json()
    assert me["permissions"] == ["feedback:read"] and me["unit_ids"] == [org.unit("east").id]
    assert keyed.get("/api/v1/org-units", headers=bearer(key)).status_code == 403

    r = client.delete(f"/api/v1/api-keys/{created['id']}", headers=headers)
    assert r.status_code == 204
    assert keyed.get("/api/v1/me", headers=bearer(key)).status_code == 401
    [made] = _audit(session, "api_key_created")
    [revoked] = _audit(session, "api_key_revoked")
    assert made.org_unit_id == revoked.org_unit_id == org.unit("east").id

    r = client.post("/api/v1/api-keys", json=body | {"scopes": ["no:such"]}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["field"] == "scopes"


def test_a_key_cannot_grant_more_than_it_holds(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["users:admin", "feedback:read"])
    r = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["feedback:write"], "org_unit_id": org.unit("acme").id},
        headers=bearer(key),
    )
    assert r.status_code == 403 and r.json()["error"]["field"] == "scopes"
    r = client.post(
        "/api/v1/users",
        json={
            "email": "boss@acme.example",
            "role": "admin",
            "unit_ids": [org.unit("acme").id],
            "password": NEW_PASSWORD,
        },
        headers=bearer(key),
    )
    assert r.status_code == 403 and r.json()["error"]["field"] == "role"
    assert session.scalar(select(User).where(User.email == "boss@acme.example")) is None


def test_people_without_users_admin_are_refused(client: TestClient, org: Org):
    headers = _csrf(client, "east_manager@acme.example")
    assert client.get("/api/v1/users").status_code == 403
    assert client.get("/api/v1/api-keys").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert 'data-testid="admin-link"' not in client.get("/").text
    r = client.post(
        "/api/v1/api-keys",
        json={"name": "x", "scopes": ["feedback:read"], "org_unit_id": org.unit("east").id},
        headers=headers,
    )
    assert r.status_code == 403


def test_users_page_creates_and_reports_errors_beside_the_form(
    client: TestClient, session: Session, org: Org
):
    login(client, "admin@acme.example")
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert 'data-user="manager_c@acme.example"' in page.text
    token = form_token(client, "/admin/users")
    form = {
        "csrf_token": token,
        "email": "pat@acme.example",
        "name": "<script>alert(1)</script>",
        "role": "frontline",
        "unit_ids": [str(org.unit("store_a").id)],
        "password": "short",
    }
    r = client.post("/admin/users", data=form)
    assert r.status_code == 422
    assert 'data-testid="error"' in r.text and "password: use at least 10 characters" in r.text
    assert session.scalar(select(User).where(User.email == "pat@acme.example")) is None

    r = client.post("/admin/users", data=form | {"password": NEW_PASSWORD}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?notice=created"
    page = client.get(r.headers["location"])
    assert "The user was created" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text

    pat = session.scalar(select(User).where(User.email == "pat@acme.example"))
    assert pat is not None and pat.role == "frontline"
    r = client.post(
        f"/admin/users/{pat.id}/access",
        data={"csrf_token": token, "role": "manager", "unit_ids": [str(org.unit("east").id)]},
        follow_redirects=False,
    )
    assert r.status_code == 303
    session.expire_all()
    assert pat.role == "manager" and pat.unit_ids == [org.unit("east").id]
    r = client.post(f"/admin/users/{pat.id}/active", data={"csrf_token": token, "active": "0"})
    assert 'data-testid="inactive"' in r.text

    r = client.post("/admin/users", data=form | {"csrf_token": "forged"})
    assert r.status_code == 403


def test_regional_admin_page_hides_other_regions(client: TestClient, session: Session, org: Org):
    _east_admin(session, org)
    login(client, "east_admin@acme.example")
    page = client.get("/admin/users").text
    assert 'data-user="manager_a@acme.example"' in page
    assert "manager_c@acme.example" not in page and "Store C" not in page
    token = form_token(client, "/admin/users")
    r = client.post(f"/admin/users/{org.users['manager_c'].id}/unlock", data={"csrf_token": token})
    assert r.status_code == 404 and "user not found" in r.text


def test_key_page_shows_the_key_once(client: TestClient, session: Session, org: Org):
    login(client, "admin@acme.example")
    token = form_token(client, "/admin/api-keys")
    r = client.post(
        "/admin/api-keys",
        data={
            "csrf_token": token,
            "name": "warehouse export",
            "org_unit_id": str(org.unit("store_a").id),
            "scopes": ["metrics:write", "metrics:read"],
        },
    )
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    key = r.text.split('data-testid="key-value">', 1)[1].split("<", 1)[0]
    row = session.scalar(select(ApiKey).where(ApiKey.name == "warehouse export"))
    assert row is not None and key.startswith(f"cxk_{row.prefix}_")
    assert sorted(row.scopes) == ["metrics:read", "metrics:write"]
    again = client.get("/admin/api-keys").text
    assert key not in again and row.prefix in again

    r = client.post(
        "/admin/api-keys",
        data={"csrf_token": token, "name": "none", "org_unit_id": str(org.unit("acme").id)},
    )
    assert r.status_code == 422 and "choose at least one scope" in r.text

    r = client.post(f"/admin/api-keys/{row.id}/revoke", data={"csrf_token": token})
    assert 'data-testid="revoked"' in r.text
    assert TestClient(client.app).get("/api/v1/me", headers=bearer(key)).status_code == 401


def test_audit_page_filters_and_exports_safely(client: TestClient, session: Session, org: Org):
    stranger = TestClient(client.app)
    _login_status(stranger, "=HYPERLINK(1)@acme.example", "wrong password!")
    login(client, "admin@acme.example")
    page = client.get("/admin/audit?action=login_failed")
    assert page.status_code == 200
    assert page.text.count('data-action="login_failed"') == 1
    assert 'data-action="login"' not in page.text
    assert client.get("/admin/audit?since=yesterday").status_code == 422

    r = client.get("/admin/audit.csv?action=login_failed")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.startswith("\ufeffat,")  # a BOM, for Excel
    rows = list(csv.reader(io.StringIO(r.text[1:])))
    assert rows[0][:3] == ["at", "actor", "action"]
    assert [row[1] for row in rows[1:]] == ["'=hyperlink(1)@acme.example"]
    [export] = _audit(session, "export")
    assert export.target_type == "audit_log" and export.detail["rows"] == 1

    # An auditor limited to a region sees the region's entries, not the company's logins.
    _east_admin(session, org)
    other = TestClient(client.app)
    login(other, "east_admin@acme.example")
    page = other.get("/admin/audit").text
    assert 'data-action="login_failed"' not in page and 'data-action="export"' not in page


@pytest.mark.browser
def test_admin_adds_a_person_in_chromium(live_server, browser, org: Org, session: Session):
    page, errors = browser_page(browser, locale="en-US")
    browser_login(page, live_server.url)
    page.click("[data-testid=admin-link]")
    page.wait_for_url(f"{live_server.url}/admin/users")
    add = page.locator("[data-testid=add-user]")
    add.locator("input[name=email]").fill("mika@acme.example")
    add.locator("input[name=name]").fill("三浦 美香")
    add.locator("select[name=role]").select_option("frontline")
    add.locator("select[name=unit_ids]").select_option(str(org.unit("store_b").id))
    add.locator("select[name=language]").select_option("ja")
    add.locator("input[name=password]").fill(NEW_PASSWORD)
    add.locator("button").click()
    page.wait_for_url(f"{live_server.url}/admin/users?notice=created")
    row = page.locator('[data-user="mika@acme.example"]')
    assert "三浦 美香" in row.inner_text() and "Store B" in row.inner_text()

    page.click("text=Log out")
    page.wait_for_url(f"{live_server.url}/login")
    browser_login(page, live_server.url, "mika@acme.example", password=NEW_PASSWORD)
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("[data-testid=admin-link]").count() == 0
    assert errors == []
