"""End to end in real Chromium: instrumented pages served by the app, batches posted to its
collector, signals read back through the API with an API key."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.store.base import utcnow
from tests.conftest import LiveServer, Org, bearer, make_api_key
from tests.digital_helpers import make_site

pytestmark = pytest.mark.browser

PAGES = Path(__file__).resolve().parents[1] / "browser_fixtures" / "collector"
SITE_KEY = "cxs_browser_site"


@pytest.fixture
def shop(live_server: LiveServer, session: Session, org: Org) -> dict[str, Any]:
    live_server.app.mount("/fixtures", StaticFiles(directory=PAGES), name="fixtures")
    make_site(session, org.unit("store_a"), key=SITE_KEY, origins=(live_server.url,))
    key = make_api_key(session, org.unit("store_a"), ["digital:read"])
    return {"base": f"{live_server.url}/fixtures", "api": live_server.url, "auth": bearer(key)}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    yield pg
    context.close()


def _open(page: Any, url: str) -> str:
    page.goto(url)
    page.wait_for_function("window.cxloop && !Array.isArray(window.cxloop)")
    page.wait_for_function("sessionStorage.getItem('cxl_s') !== null")
    return str(page.evaluate("JSON.parse(sessionStorage.getItem('cxl_s')).id"))


def _session(shop: dict[str, Any], key: str, views: int, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the read API until the session shows ``views`` page views and a final pagehide."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    with httpx.Client(base_url=shop["api"], headers=shop["auth"]) as http:
        while time.monotonic() < deadline:
            rows = http.get("/api/v1/digital/sessions", params={"key": key}).json()["data"]
            if rows:
                last = http.get(f"/api/v1/digital/sessions/{rows[0]['id']}").json()
                if last["engagement"].get("pages") == views:
                    time.sleep(1.0)  # the last beacon may still be on its way
                    again = http.get(f"/api/v1/digital/sessions/{rows[0]['id']}").json()
                    if again["events"] == last["events"]:
                        return dict(again)
            time.sleep(0.2)
    raise AssertionError(f"session {key} did not reach {views} page views: {last}")


def test_frustrated_visit_yields_exactly_the_acted_out_signals(
    page: Any, shop: dict[str, Any], session: Session
) -> None:
    sid = _open(page, f"{shop['base']}/index.html")
    page.evaluate("cxloop.identify('visitor-42')")
    page.wait_for_timeout(800)
    for _ in range(4):  # rage clicks on a button that does nothing
        page.click("#noop")
        page.wait_for_timeout(120)
    page.wait_for_timeout(1500)
    page.click("#promo-banner-7")  # looks clickable, nothing happens
    page.wait_for_timeout(1500)
    for i in range(14):  # erratic, fast back-and-forth mouse
        page.mouse.move(200 if i % 2 else 750, 320 + (i % 3) * 10)
        page.wait_for_timeout(60)
    page.wait_for_timeout(1200)
    page.set_viewport_size({"width": 400, "height": 800})  # rotate to portrait...
    page.wait_for_timeout(700)
    page.set_viewport_size({"width": 800, "height": 400})  # ...and back
    page.wait_for_timeout(700)
    page.set_viewport_size({"width": 1000, "height": 700})
    page.wait_for_timeout(1200)
    page.click("a.form-link")
    page.wait_for_selector("#email")
    page.wait_for_timeout(500)
    page.click("#email")
    page.keyboard.type("someone@example.com", delay=20)
    page.click("#name")
    page.keyboard.type("Some One", delay=20)
    page.wait_for_timeout(800)
    page.click("a.home")  # leave the form unsent
    page.wait_for_selector("#noop")
    page.wait_for_timeout(1500)
    page.click("a.shoes")
    page.wait_for_selector("a.home")
    page.wait_for_timeout(1000)
    page.go_back()  # straight back without touching the page
    page.wait_for_selector("#noop")
    page.wait_for_timeout(1500)
    page.goto("about:blank")

    live = _session(shop, sid, views=5)

    expected = {
        "rage_click",
        "dead_click",
        "thrashed_cursor",
        "device_rotation",
        "form_abandonment",
        "quick_back",
    }
    assert live["scored_live"] is True
    assert {s["type"] for s in live["signals"]} == expected
    by_type = {s["type"]: s for s in live["signals"]}
    assert by_type["rage_click"]["selector"] == "button#noop"
    assert by_type["dead_click"]["selector"] == "div#promo-banner-7"
    assert by_type["form_abandonment"]["selector"] == "form#signup"
    assert by_type["quick_back"]["url"].endswith("/shoes.html")
    assert live["dxs"] < 8 and live["frustrated"] is True

    # Once the session has gone idle it is closed, and the stored signals are the same.
    close_idle_sessions(session=session, now=utcnow() + timedelta(minutes=31))
    session.commit()
    with httpx.Client(base_url=shop["api"], headers=shop["auth"]) as http:
        stored = http.get(f"/api/v1/digital/sessions/{live['id']}").json()
    assert stored["status"] == "closed" and stored["scored_live"] is False
    assert sorted((s["type"], s["selector"]) for s in stored["signals"]) == sorted(
        (s["type"], s["selector"]) for s in live["signals"]
    )
    assert stored["dxs"] == live["dxs"]


def test_calm_visit_yields_no_signal(page: Any, shop: dict[str, Any]) -> None:
    sid = _open(page, f"{shop['base']}/index.html")
    page.mouse.move(300, 200, steps=6)
    page.wait_for_timeout(1500)
    page.mouse.wheel(0, 700)
    page.wait_for_timeout(1500)
    page.mouse.move(420, 260, steps=4)
    page.wait_for_timeout(1000)
    page.mouse.wheel(0, -700)
    page.wait_for_timeout(1500)
    page.click("#more")  # a button that works
    page.wait_for_timeout(1500)
    page.click("a.shoes")  # a link that navigates
    page.wait_for_selector("a.home")
    page.wait_for_timeout(2500)
    page.goto("about:blank")

    live = _session(shop, sid, views=2)

    assert live["signals"] == []
    assert live["pillars"]["frustration"] == 10.0
    assert live["engagement"]["active_ms"] > 3000
    assert live["frustrated"] is False
