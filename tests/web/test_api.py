"""API conventions: 401/403/404, the error body, bad JSON, unknown fields, 413, paging, audit."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.auth import ApiKey, AuditEntry
from cxloop.store.models.customers import Customer
from tests.conftest import Org, bearer, make_api_key


def _new_customer(unit_id: int, email: str, **extra: object) -> dict:
    return {"org_unit_id": unit_id, "identities": [{"kind": "email", "value": email}], **extra}


def test_unauthenticated_calls_get_401_with_the_error_body(client: TestClient):
    r = client.get("/api/v1/customers")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["error"]["code"] == "unauthenticated"
    assert client.get("/api/v1/me", headers=bearer("cxk_nonsense")).status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_healthz_and_openapi(client: TestClient):
    assert client.get("/healthz").json()["status"] == "ok"
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers" in spec["paths"]


def test_api_key_scopes_are_enforced(client: TestClient, session: Session, org: Org):
    reader = make_api_key(session, org.unit("acme"), ["customers:read"], "reader")
    writer = make_api_key(session, org.unit("acme"), ["customers:write"], "writer")
    body = _new_customer(org.unit("store_a").id, "a@x.example")
    r = client.post("/api/v1/customers", json=body, headers=bearer(reader))
    assert r.status_code == 403
    assert "customers:write" in r.json()["error"]["message"]
    assert client.post("/api/v1/customers", json=body, headers=bearer(writer)).status_code == 201
    assert client.get("/api/v1/customers", headers=bearer(reader)).json()["count"] == 1
    assert client.get("/api/v1/customers", headers=bearer(writer)).status_code == 403


def test_keys_are_stored_hashed_and_revocable(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["customers:read"])
    row = session.scalar(select(ApiKey))
    assert key not in (row.key_hash, row.prefix) and len(row.key_hash) == 64
    row.revoked_at = utcnow()
    session.commit()
    assert client.get("/api/v1/customers", headers=bearer(key)).status_code == 401


def test_create_is_idempotent_on_identity(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["customers:write", "customers:read"])
    body = _new_customer(org.unit("store_a").id, "Same@X.example", tier="gold")
    first = client.post("/api/v1/customers", json=body, headers=bearer(key))
    body["identities"][0]["value"] = "same@x.example"
    second = client.post("/api/v1/customers", json=body, headers=bearer(key))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert session.scalar(select(func.count()).select_from(Customer)) == 1


def test_bad_bodies_get_clear_errors_and_write_nothing(
    client: TestClient, session: Session, org: Org
):
    key = make_api_key(session, org.unit("acme"), ["customers:write"])
    h = {**bearer(key), "content-type": "application/json"}
    r = client.post("/api/v1/customers", content=b'{"org_unit_id": 1,', headers=h)
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = client.post(
        "/api/v1/customers",
        json={**_new_customer(org.unit("acme").id, "b@x.example"), "x": 1},
        headers=bearer(key),
    )
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "x" and "unknown field" in r.json()["error"]["message"]
    r = client.post(
        "/api/v1/customers",
        json={"org_unit_id": org.unit("acme").id, "identities": [{"kind": "fax", "value": "1"}]},
        headers=bearer(key),
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "identities.0.kind"
    assert session.scalar(select(func.count()).select_from(Customer)) == 0


def test_oversize_body_gets_413(client: TestClient, session: Session, org: Org, settings):
    key = make_api_key(session, org.unit("acme"), ["customers:write"])
    big = json.dumps({"org_unit_id": 1, "name": "x" * (settings.max_body_bytes + 10)})
    r = client.post(
        "/api/v1/customers",
        content=big,
        headers={**bearer(key), "content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: the limit holds while streaming too
        for _ in range(settings.max_body_bytes // 1000 + 5):
            yield b" " * 1000

    r = client.post(
        "/api/v1/customers",
        content=chunks(),
        headers={**bearer(key), "content-type": "application/json"},
    )
    assert r.status_code == 413


def test_creating_in_an_out_of_scope_unit_is_404(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("east"), ["customers:write"])
    r = client.post(
        "/api/v1/customers",
        json=_new_customer(org.unit("store_c").id, "c@x.example"),
        headers=bearer(key),
    )
    assert r.status_code == 404 and r.json()["error"]["field"] == "org_unit_id"


def test_pagination(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["customers:write", "customers:read"])
    for i in range(7):
        client.post(
            "/api/v1/customers",
            json=_new_customer(org.unit("store_a").id, f"p{i}@x.example"),
            headers=bearer(key),
        )
    page = client.get("/api/v1/customers?limit=3&offset=3", headers=bearer(key)).json()
    assert (page["count"], page["limit"], page["offset"], len(page["data"])) == (7, 3, 3, 3)
    assert client.get("/api/v1/customers?limit=0", headers=bearer(key)).status_code == 422


def test_exports_and_deletions_are_audited(client: TestClient, session: Session, org: Org):
    key = make_api_key(
        session, org.unit("acme"), ["customers:write", "customers:read", "export", "audit:read"]
    )
    created = client.post(
        "/api/v1/customers",
        json=_new_customer(org.unit("store_a").id, "d@x.example", name='=HYPERLINK("x")'),
        headers=bearer(key),
    ).json()
    csv = client.get("/api/v1/customers/export.csv", headers=bearer(key))
    assert csv.status_code == 200 and "'=HYPERLINK" in csv.text
    assert (
        client.delete(f"/api/v1/customers/{created['id']}", headers=bearer(key)).status_code == 204
    )
    actions = [e["action"] for e in client.get("/api/v1/audit", headers=bearer(key)).json()["data"]]
    assert {"export", "delete"} <= set(actions)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "delete"))
    assert entry.target_id == str(created["id"]) and entry.actor_label == "api key test"


def test_key_use_is_stamped_at_most_once_a_minute(client: TestClient, session: Session, org: Org):
    key = make_api_key(session, org.unit("acme"), ["customers:read"])
    client.get("/api/v1/customers", headers=bearer(key))
    session.expire_all()
    first = session.scalar(select(ApiKey.last_used_at))
    assert first is not None
    client.get("/api/v1/customers", headers=bearer(key))
    session.expire_all()
    assert session.scalar(select(ApiKey.last_used_at)) == first


def test_identity_of_an_out_of_scope_customer_is_refused_and_nothing_changes(
    client: TestClient, session: Session, org: Org
):
    admin = make_api_key(session, org.unit("acme"), ["customers:write"], "admin")
    east = make_api_key(session, org.unit("east"), ["customers:write"], "east")
    west_customer = _new_customer(org.unit("store_c").id, "w@x.example", tier="gold")
    assert (
        client.post("/api/v1/customers", json=west_customer, headers=bearer(admin)).status_code
        == 201
    )
    body = _new_customer(org.unit("store_a").id, "w@x.example", tier="bronze")
    r = client.post("/api/v1/customers", json=body, headers=bearer(east))
    assert r.status_code == 409 and r.json()["error"]["field"] == "identities"
    session.expire_all()
    assert session.scalar(select(Customer.tier)) == "gold"
