"""Cases through the API: scoped inbox, workflow rules, notes, contacts, root causes."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.act import cases
from cxloop.store.models.act import RootCause
from tests.conftest import Org, login


def _case(session: Session, org: Org, unit: str, title: str = "Late delivery") -> int:
    case = cases.open_case(session=session, unit=org.unit(unit), title=title, sla_hours=24)
    session.commit()
    return case.id


def test_inbox_is_scoped_and_out_of_scope_is_404(client: TestClient, session: Session, org: Org):
    a = _case(session, org, "store_a", "A")
    c = _case(session, org, "store_c", "C")
    client.headers["x-csrf-token"] = login(client, "manager_a@acme.example")
    mine = client.get("/api/v1/cases?mine=true").json()
    assert [x["id"] for x in mine["data"]] == [a]
    assert client.get(f"/api/v1/cases/{c}").status_code == 404
    assert client.post(f"/api/v1/cases/{c}/notes", json={"body": "x"}).status_code == 404


def test_workflow_enforces_transitions_and_root_cause(
    client: TestClient, session: Session, org: Org
):
    cause = RootCause(
        org_unit_id=org.unit("acme").id, code="staff", name="Staff", name_ja="スタッフ対応"
    )
    session.add(cause)
    case_id = _case(session, org, "store_a")
    client.headers["x-csrf-token"] = login(client, "frontline_a@acme.example")
    url = f"/api/v1/cases/{case_id}"

    assert client.post(f"{url}/status", json={"status": "reopened"}).status_code == 409
    r = client.post(f"{url}/status", json={"status": "resolved"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "root_cause_id"
    assert client.post(f"{url}/status", json={"status": "bogus"}).status_code == 422

    assert client.post(f"{url}/notes", json={"body": "<b>called store</b>"}).status_code == 201
    contact = client.post(f"{url}/contacts", json={"channel": "phone", "body": "apologised"})
    assert contact.status_code == 201
    detail = client.get(url).json()
    assert detail["status"] == "contacted" and detail["first_contact_at"] is not None
    assert "resolved" in detail["allowed_statuses"]
    r = client.post(
        f"{url}/status",
        json={"status": "resolved", "root_cause_id": cause.id, "resolution": "refund"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["root_cause_id"] == cause.id and r.json()["resolution"] == "refund"
    assert client.post(f"{url}/status", json={"status": "closed"}).json()["status"] == "closed"
    reopened = client.post(f"{url}/status", json={"status": "reopened"}).json()
    assert reopened["status"] == "reopened" and reopened["closed_at"] is None
    kinds = [e["kind"] for e in reopened["events"]]
    assert kinds.count("status") == 4 and "note" in kinds and "contact" in kinds


def test_manual_case_with_unknown_owner_goes_to_queue(
    client: TestClient, session: Session, org: Org
):
    client.headers["x-csrf-token"] = login(client, "east_manager@acme.example")
    r = client.post(
        "/api/v1/cases",
        json={
            "org_unit_id": org.unit("store_b").id,
            "title": "Call back",
            "owner_email": "x@nowhere.example",
        },
    )
    assert r.status_code == 201
    assert r.json()["owner_user_id"] is None
    bad = client.post("/api/v1/cases", json={"org_unit_id": org.unit("store_c").id, "title": "x"})
    assert bad.status_code == 404 and bad.json()["error"]["field"] == "org_unit_id"
    hours = client.post(
        "/api/v1/cases",
        json={
            "org_unit_id": org.unit("store_b").id,
            "title": "x",
            "business_hours": {"funday": "09:00-18:00"},
        },
    )
    assert hours.status_code == 422 and hours.json()["error"]["field"] == "business_hours"


def test_root_cause_taxonomy_is_admin_editable_and_bilingual(client: TestClient, org: Org):
    client.headers["x-csrf-token"] = login(client, "admin@acme.example")
    r = client.post(
        "/api/v1/cases/root-causes",
        json={"code": "billing", "name": "Billing error", "name_ja": "請求の誤り"},
    )
    assert r.status_code == 201
    cid = r.json()["id"]
    assert (
        client.post("/api/v1/cases/root-causes", json={"code": "billing", "name": "x"}).status_code
        == 409
    )
    client.patch(f"/api/v1/cases/root-causes/{cid}", json={"is_active": False})
    assert client.get("/api/v1/cases/root-causes").json() == []
    client.post("/logout")
    client.headers["x-csrf-token"] = login(client, "manager_a@acme.example")
    assert (
        client.post("/api/v1/cases/root-causes", json={"code": "x", "name": "x"}).status_code == 403
    )


def test_metrics_endpoint(client: TestClient, session: Session, org: Org):
    _case(session, org, "store_a")
    client.headers["x-csrf-token"] = login(client, "east_manager@acme.example")
    m = client.get("/api/v1/cases/metrics").json()
    assert m["cases"] == 1 and m["open"] == 1 and m["closed_within_sla"] is None
