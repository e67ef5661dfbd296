"""Digital pages: overview, session list, session timeline and sites, in English and Japanese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.store.models.digital import DigitalSession, DigitalSite
from tests.conftest import Org, login
from tests.digital_helpers import Visit, frustrated_visit, ingest, make_site

EVIL = '<img src=x onerror="alert(1)">'


@pytest.fixture
def scored(session: Session, org: Org) -> dict[str, Any]:
    site = make_site(session, org.unit("store_a"))
    v = frustrated_visit()
    ingest(session, site, v.batch(), received_at=datetime.now(UTC) - timedelta(hours=1))
    evil = Visit()
    evil.pageview("/search")
    evil.url += "?q=" + EVIL  # the tracker drops queries; a hand-made batch need not
    evil.rage(f"button[data-x='{EVIL}']")
    evil.add("pagehide", 100)
    ingest(session, site, evil.batch(), received_at=datetime.now(UTC) - timedelta(hours=1))
    close_idle_sessions(session=session)
    session.commit()
    ids = dict(session.execute(select(DigitalSession.session_key, DigitalSession.id)).all())
    return {"site": site, "frustrated": ids[v.session_id], "evil": ids[evil.session_id]}


def test_overview_shows_trend_worst_pages_and_hot_spots(
    client: TestClient, org: Org, scored: dict[str, Any]
) -> None:
    login(client, "manager_a@acme.example")
    r = client.get("/digital")
    assert r.status_code == 200
    assert 'id="dxs-trend-data"' in r.text and "/digital/plotly.min.js" in r.text
    assert "button#apply-coupon" in r.text and "Rage click" in r.text
    assert EVIL not in r.text and "&lt;img src=x" in r.text
    js = client.get("/digital/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("application/javascript")
    assert client.get("/static/js/digital.js").status_code == 200


def test_session_timeline_in_japanese(
    client: TestClient, org: Org, scored: dict[str, Any], session: Session
) -> None:
    user = org.users["manager_a"]
    user.language = "ja"
    session.commit()
    login(client, "manager_a@acme.example")
    r = client.get(f"/digital/sessions/{scored['frustrated']}")
    assert r.status_code == 200
    assert "シグナルのタイムライン" in r.text and "連打クリック" in r.text
    assert 'data-type="rage_click"' in r.text
    evil = client.get(f"/digital/sessions/{scored['evil']}")
    assert EVIL not in evil.text and "data-x=&#39;&lt;img" in evil.text


def test_session_list_filters_and_scoping(
    client: TestClient, org: Org, scored: dict[str, Any]
) -> None:
    login(client, "manager_a@acme.example")
    listed = client.get("/digital/sessions", params={"signal": "rage_click"})
    assert listed.status_code == 200
    assert f"/digital/sessions/{scored['frustrated']}" in listed.text
    assert "2 sessions" in listed.text
    calm = client.get("/digital/sessions", params={"signal": "quick_back"})
    assert "0 sessions" in calm.text

    client.cookies.clear()
    login(client, "manager_c@acme.example")
    assert client.get(f"/digital/sessions/{scored['frustrated']}").status_code == 404
    assert "0 sessions" in client.get("/digital/sessions").text


def test_sites_page_shows_key_and_counts_and_admin_adds_a_site(
    client: TestClient, org: Org, scored: dict[str, Any], session: Session
) -> None:
    csrf = login(client, "admin@acme.example")
    page = client.get("/digital/sites")
    assert scored["site"].site_key in page.text
    assert "Accepted" in page.text and 'data-site-key="' in page.text
    r = client.post(
        "/digital/sites",
        data={
            "csrf_token": csrf,
            "name": "West shop",
            "org_unit_id": str(org.unit("west").id),
            "origins": "https://west.example",
            "consent_required": "true",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    site = session.scalars(select(DigitalSite).where(DigitalSite.name == "West shop")).one()
    assert site.allowed_origins == ["https://west.example"] and site.consent_required

    bad = client.post(
        "/digital/sites",
        data={
            "csrf_token": csrf,
            "name": "x",
            "org_unit_id": str(org.unit("west").id),
            "origins": "not an origin",
        },  # fmt: skip
    )
    assert bad.status_code == 200 and 'role="alert"' in bad.text


def test_a_manager_cannot_add_sites(client: TestClient, org: Org) -> None:
    csrf = login(client, "manager_a@acme.example")
    assert "digital/sites" in client.get("/digital").text
    r = client.post(
        "/digital/sites",
        data={"csrf_token": csrf, "name": "x", "org_unit_id": str(org.unit("store_a").id)},
    )
    assert r.status_code == 403
