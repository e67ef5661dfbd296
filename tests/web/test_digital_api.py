"""The digital read and admin API: sites, sessions with signals and DXS, rollups, scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from cxloop.signals.digital_sessions import close_idle_sessions
from tests.conftest import Org, bearer, login, make_api_key
from tests.digital_helpers import ORIGIN, Visit, frustrated_visit, ingest, make_site

HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


@pytest.fixture
def data(session: Session, org: Org) -> dict[str, Any]:
    """store_a's site: one frustrated and two calm closed sessions, one open; store_c: one."""
    a = make_site(session, org.unit("store_a"))
    c = make_site(session, org.unit("store_c"), key="cxs_site_c", origins=("https://c.example",))
    frustrated = frustrated_visit()
    ingest(session, a, frustrated.batch(), received_at=HOUR_AGO)
    calm = []
    for path in ("/", "/bags"):
        v = Visit()
        v.calm_page(path)
        v.calm_page("/shoes")
        ingest(session, a, v.batch(), received_at=HOUR_AGO)
        calm.append(v)
    other = frustrated_visit("cxs_site_c")
    ingest(session, c, other.batch(), received_at=HOUR_AGO)
    close_idle_sessions(session=session)
    session.commit()
    still_open = frustrated_visit()
    ingest(session, a, still_open.batch())
    return {
        "a": a,
        "c": c,
        "frustrated": frustrated,
        "calm": calm,
        "open": still_open,
        "other": other,
    }


def _key(session: Session, org: Org, unit: str, *scopes: str) -> dict[str, str]:
    return bearer(make_api_key(session, org.unit(unit), list(scopes or ["digital:read"])))


def _id_of(client: TestClient, headers: dict[str, str], visit: Visit) -> int:
    r = client.get("/api/v1/digital/sessions", params={"key": visit.session_id}, headers=headers)
    assert r.status_code == 200, r.text
    [row] = r.json()["data"]
    return int(row["id"])


def test_admin_creates_and_edits_a_site_and_others_cannot(
    client: TestClient, session: Session, org: Org
) -> None:
    admin = _key(session, org, "acme", "digital:admin", "digital:read")
    body = {
        "org_unit_id": org.unit("store_b").id,
        "name": "Store B web shop",
        "allowed_origins": ["https://B.example/", "https://b.example"],
        "thresholds": {"rage_min_clicks": 4},
        "consent_required": True,
    }
    r = client.post("/api/v1/digital/sites", json=body, headers=admin)
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["allowed_origins"] == ["https://b.example"]
    assert site["site_key"].startswith("cxs_") and len(site["site_key"]) > 20
    assert site["thresholds"] == {"rage_min_clicks": 4} and site["consent_required"] is True

    r = client.patch(f"/api/v1/digital/sites/{site['id']}", json={"name": "B shop"}, headers=admin)
    assert r.json()["name"] == "B shop" and r.json()["site_key"] == site["site_key"]

    bad = client.post(
        "/api/v1/digital/sites", json={**body, "thresholds": {"rage_clicks": 2}}, headers=admin
    )
    assert bad.status_code == 422 and "rage_clicks" in bad.json()["error"]["message"]
    bad = client.post(
        "/api/v1/digital/sites", json={**body, "allowed_origins": ["b.example/x"]}, headers=admin
    )
    assert bad.status_code == 422

    reader = _key(session, org, "acme", "digital:read")
    assert client.post("/api/v1/digital/sites", json=body, headers=reader).status_code == 403
    login(client, "manager_a@acme.example")
    csrf = login(client, "manager_a@acme.example")
    r = client.post("/api/v1/digital/sites", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403


def test_session_detail_returns_signals_pages_engagement_and_dxs(
    client: TestClient, session: Session, org: Org, data: dict[str, Any]
) -> None:
    headers = _key(session, org, "store_a")
    sid = _id_of(client, headers, data["frustrated"])

    r = client.get(f"/api/v1/digital/sessions/{sid}", headers=headers)

    assert r.status_code == 200
    s = r.json()
    assert s["status"] == "closed" and s["scored_live"] is False
    assert 0 <= s["dxs"] < 10 and s["frustrated"] is True
    types = {x["type"] for x in s["signals"]}
    assert "rage_click" in types
    rage = next(x for x in s["signals"] if x["type"] == "rage_click")
    assert rage["selector"] == "button#apply-coupon"
    assert rage["url"] == ORIGIN + "/checkout"
    assert set(rage) >= {"type", "at", "url", "selector"}
    assert [p["url"] for p in s["page_scores"]] == [ORIGIN + "/shoes", ORIGIN + "/checkout"]
    assert s["engagement"]["pages"] == 2 and s["engagement"]["active_ms"] > 0
    assert set(s["pillars"]) >= {"frustration", "engagement"}


def test_an_open_session_is_scored_on_read(
    client: TestClient, session: Session, org: Org, data: dict[str, Any]
) -> None:
    headers = _key(session, org, "store_a")
    sid = _id_of(client, headers, data["open"])
    s = client.get(f"/api/v1/digital/sessions/{sid}", headers=headers).json()
    assert s["status"] == "open" and s["scored_live"] is True
    assert "rage_click" in {x["type"] for x in s["signals"]}
    listed = client.get("/api/v1/digital/sessions", params={"status": "open"}, headers=headers)
    assert [r["dxs"] for r in listed.json()["data"]] == [None]  # stored scores: closed only


def test_session_list_filters(
    client: TestClient, session: Session, org: Org, data: dict[str, Any]
) -> None:
    h = _key(session, org, "acme")

    def keys(**params: Any) -> set[str]:
        r = client.get("/api/v1/digital/sessions", params=params, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["count"] == len(body["data"])
        return {row["session_key"] for row in body["data"]}

    frustrated, calm = data["frustrated"].session_id, {v.session_id for v in data["calm"]}
    other, still_open = data["other"].session_id, data["open"].session_id
    assert len(keys()) == 5
    assert keys(site_id=data["a"].id) == {frustrated, still_open, *calm}
    assert keys(signal="rage_click") == {frustrated, other}
    assert keys(max_dxs=8, site_id=data["a"].id) == {frustrated}
    assert keys(min_dxs=8) == calm
    assert keys(since=(datetime.now(UTC) - timedelta(minutes=5)).isoformat()) == {still_open}
    assert keys(until=(datetime.now(UTC) - timedelta(minutes=5)).isoformat()) == {
        frustrated,
        other,
        *calm,
    }
    page = client.get("/api/v1/digital/sessions", params={"limit": 2}, headers=h).json()
    assert page["count"] == 5 and len(page["data"]) == 2
    bad = client.get("/api/v1/digital/sessions", params={"signal": "sneeze"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "signal"


def test_reads_are_scoped_by_the_sites_org_unit(
    client: TestClient, session: Session, org: Org, data: dict[str, Any]
) -> None:
    store_c = _key(session, org, "store_c")
    store_a = _key(session, org, "store_a")
    sid = _id_of(client, store_a, data["frustrated"])

    assert client.get(f"/api/v1/digital/sessions/{sid}", headers=store_c).status_code == 404
    assert client.get("/api/v1/digital/sessions", headers=store_c).json()["count"] == 1
    assert client.get(f"/api/v1/digital/sites/{data['a'].id}", headers=store_c).status_code == 404
    sites = client.get("/api/v1/digital/sites", headers=store_c).json()
    assert [s["id"] for s in sites] == [data["c"].id]
    hot = client.get("/api/v1/digital/hotspots", headers=store_c).json()
    assert {h["url"] for h in hot} == {ORIGIN + "/checkout"} and hot[0]["sessions"] == 1
    login(client, "frontline_a@acme.example")  # no digital:read
    assert client.get("/api/v1/digital/sessions").status_code == 403


def test_worst_pages_hot_spots_trend_and_counts(
    client: TestClient, session: Session, org: Org, data: dict[str, Any]
) -> None:
    h = _key(session, org, "store_a")
    site = {"site_id": data["a"].id}

    pages = client.get("/api/v1/digital/pages", params=site, headers=h).json()
    assert pages[0]["url"] == ORIGIN + "/checkout"
    assert pages[0]["signals"]["rage_click"] == 1 and pages[0]["sessions"] == 1
    assert [p["mean_dxs"] for p in pages] == sorted(p["mean_dxs"] for p in pages)
    shoes = next(p for p in pages if p["url"] == ORIGIN + "/shoes")
    assert shoes["sessions"] == 3 and shoes["signals"] == {}

    hot = client.get("/api/v1/digital/hotspots", params=site, headers=h).json()
    assert hot[0]["selector"] == "button#apply-coupon"
    assert hot[0]["types"] == {"rage_click": 1}

    trend = client.get("/api/v1/digital/trend", params=site, headers=h).json()
    assert sum(p["sessions"] for p in trend) == 3
    assert trend[-1]["frustrated_share"] == pytest.approx(1 / 3, abs=1e-3)

    counts = client.get(f"/api/v1/digital/sites/{data['a'].id}/counts", headers=h).json()
    assert counts["outcomes"]["accepted"]["batches"] == 4

    rel = client.get("/api/v1/digital/dxs-vs-survey", headers=h).json()
    assert rel["available"] is True and rel["pairs"] == 0
