"""tracker.js in a real Chromium: what it sends, and what the detectors make of it.

Fixture pages are served from one local server and the collector runs on another port, so
the batches travel cross-origin exactly as they do from a customer's site.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cxloop.insight.digital import TrackerBatch, batch_events, parse_batch, score_session

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "browser_fixtures" / "digital"
TRACKER = ROOT / "src" / "cxloop" / "web" / "static" / "tracker.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SECRETS = ("secret-value-4242@example.com", "Zebulon Quartermain")


@dataclass
class Collector:
    url: str = ""
    bodies: list[tuple[str, str]] = field(default_factory=list)  # (content type, body)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def batches(self, session_id: str | None = None) -> list[TrackerBatch]:
        with self.lock:
            parsed = [parse_batch(body) for _, body in self.bodies]
        return [b for b in parsed if session_id is None or b.session_id == session_id]

    def raw(self) -> list[str]:
        with self.lock:
            return [body for _, body in self.bodies]

    def wait_for(self, session_id: str, pagehides: int, timeout: float = 15.0) -> None:
        """Wait until the session's batches hold `pagehides` pagehide events."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = [e for b in self.batches(session_id) for e in b.events]
            if sum(e.type == "pagehide" for e in events) >= pagehides:
                return
            time.sleep(0.1)
        raise AssertionError(f"collector did not receive {pagehides} pagehides in time")


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    sink = Collector()

    class Collect(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            with sink.lock:
                sink.bodies.append((self.headers.get("Content-Type", ""), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server, base = _serve(Collect)
    sink.url = base + "/collect"
    yield sink
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(collector: Collector) -> Iterator[str]:
    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            name = self.path.split("?")[0].lstrip("/") or "index.html"
            if name == "t.js":
                body, ctype = TRACKER.read_bytes(), "text/javascript"
            elif (FIXTURES / name).is_file() and "/" not in name:
                html = (FIXTURES / name).read_text().replace("__ENDPOINT__", collector.url)
                body, ctype = html.encode(), "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server, base = _serve(Pages)
    yield base
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    pg = context.new_page()
    yield pg
    context.close()


def _open(page: Any, url: str) -> str:
    """Load a page, wait for the tracker, return the session id it uses."""
    page.goto(url)
    page.wait_for_function("window.cxloop && !Array.isArray(window.cxloop)")
    page.wait_for_function("sessionStorage.getItem('cxl_s') !== null")
    return str(page.evaluate("JSON.parse(sessionStorage.getItem('cxl_s')).id"))


def _session_events(collector: Collector, session_id: str) -> list[Any]:
    return [e for b in collector.batches(session_id) for e in batch_events(b)]


def test_frustrated_visit_yields_exactly_the_acted_out_signals(
    page: Any, site: str, collector: Collector
) -> None:
    sid = _open(page, f"{site}/index.html")
    page.evaluate("cxloop.identify('cust-42')")
    page.wait_for_timeout(800)

    for _ in range(4):  # rage clicks on a button that does nothing
        page.click("#noop")
        page.wait_for_timeout(120)
    page.wait_for_timeout(1500)
    page.click("#promo-banner-7")  # a dead click: looks clickable, nothing happens
    page.wait_for_timeout(1500)
    page.click("#boom")  # the handler throws
    page.wait_for_timeout(1500)
    for i in range(14):  # erratic, fast back-and-forth mouse
        page.mouse.move(200 if i % 2 else 750, 320 + (i % 3) * 10)
        page.wait_for_timeout(60)
    page.wait_for_timeout(1200)
    page.set_viewport_size({"width": 400, "height": 800})  # portrait
    page.wait_for_timeout(700)
    page.set_viewport_size({"width": 800, "height": 400})  # landscape again
    page.wait_for_timeout(700)
    page.set_viewport_size({"width": 1000, "height": 700})
    page.wait_for_timeout(1200)

    page.click("a.form-link")  # navigates
    page.wait_for_selector("#email")
    page.wait_for_timeout(500)
    page.click("#email")
    page.keyboard.type(SECRETS[0], delay=20)
    page.click("#name")
    page.keyboard.type(SECRETS[1], delay=20)
    page.wait_for_timeout(800)
    page.click("a.home")  # leave without submitting
    page.wait_for_selector("#noop")
    page.wait_for_timeout(1500)

    page.click("a.shoes")
    page.wait_for_selector("a.home")
    page.wait_for_timeout(1000)
    page.go_back()  # straight back without touching the page
    page.wait_for_selector("#noop")
    page.wait_for_timeout(1500)
    page.goto("about:blank")
    collector.wait_for(sid, pagehides=5)

    result = score_session(_session_events(collector, sid))

    found = {s.type for s in result.signals}
    assert found == {
        "rage_click",
        "dead_click",
        "error_click",
        "thrashed_cursor",
        "device_rotation",
        "form_abandonment",
        "quick_back",
    }
    by_type = {s.type: s for s in result.signals}
    assert by_type["rage_click"].selector == "button#noop"
    assert by_type["dead_click"].selector == "div#promo-banner-7"
    assert by_type["error_click"].selector == "button#boom"
    assert by_type["form_abandonment"].selector == "form#signup"
    assert by_type["form_abandonment"].url.endswith("/form.html")
    assert by_type["quick_back"].url.endswith("/shoes.html")
    assert result.dxs < 8
    home = next(p for p in result.page_scores if p.url.endswith("/index.html"))
    assert {h.selector for h in home.hot_spots} == {
        "button#noop",
        "div#promo-banner-7",
        "button#boom",
    }
    assert [p.url.rsplit("/", 1)[1] for p in result.pages] == [
        "index.html",
        "form.html",
        "index.html",
        "shoes.html",
        "index.html",
    ]

    batches = collector.batches(sid)
    assert len({b.batch_id for b in batches}) == len(batches)
    seqs = [e.seq for b in batches for e in b.events]
    assert len(set(seqs)) == len(seqs)
    assert {b.site_key for b in batches} == {"site_test"}
    assert batches[-1].customer_id == "cust-42"


def test_typed_values_and_page_text_never_leave_the_browser(
    page: Any, site: str, collector: Collector
) -> None:
    sid = _open(page, f"{site}/form.html")
    page.click("#email")
    page.keyboard.type(SECRETS[0], delay=10)
    page.click("#name")
    page.keyboard.type(SECRETS[1], delay=10)
    page.click("button[type=submit]")  # GET form: values land in the next page's URL
    page.wait_for_selector("#noop")
    page.wait_for_timeout(300)
    page.goto("about:blank")
    collector.wait_for(sid, pagehides=2)

    types = {e.type for e in _session_events(collector, sid)}
    assert {"field_focus", "field_input", "field_blur", "submit"} <= types
    for body in collector.raw():
        for secret in (*SECRETS, "secret-value-4242", "Zebulon", "Unique-page-text-marker"):
            assert secret not in body
    with collector.lock:
        assert {ctype.split(";")[0] for ctype, _ in collector.bodies} == {"text/plain"}


def test_calm_visit_yields_no_signal(page: Any, site: str, collector: Collector) -> None:
    sid = _open(page, f"{site}/index.html")
    page.mouse.move(300, 200, steps=6)
    page.wait_for_timeout(1500)
    page.mouse.wheel(0, 700)  # scroll once, reading down
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
    collector.wait_for(sid, pagehides=2)

    result = score_session(_session_events(collector, sid))

    assert result.signals == []
    assert result.engagement.pages == 2
    assert result.page_engagement[0].max_scroll_depth > 0.4
    assert result.engagement.active_ms > 3000
    assert result.pillars["frustration"] == 10.0


def test_nothing_is_sent_before_consent(page: Any, site: str, collector: Collector) -> None:
    page.goto(f"{site}/consent.html")
    page.wait_for_function("window.cxloop && !Array.isArray(window.cxloop)")
    before = len(collector.raw())
    page.click("#more")
    page.wait_for_timeout(3500)  # longer than the flush interval
    assert len(collector.raw()) == before
    assert page.evaluate("sessionStorage.getItem('cxl_s')") is None

    page.evaluate("cxloop.consent(true)")
    sid = str(page.evaluate("JSON.parse(sessionStorage.getItem('cxl_s')).id"))
    page.mouse.move(100, 100)
    page.goto("about:blank")
    collector.wait_for(sid, pagehides=1)
    batches = collector.batches(sid)
    assert batches[0].events[0].type == "pageview"
    assert {b.customer_id for b in batches} == {"cust-queued-7"}  # queued identify call


def test_thirty_idle_minutes_start_a_new_session(page: Any, site: str) -> None:
    first = _open(page, f"{site}/shoes.html")
    assert _open(page, f"{site}/shoes.html") == first  # a reload keeps the session
    # Age the stored session before the tracker reads it on the next load.
    page.add_init_script(
        "const s = JSON.parse(sessionStorage.getItem('cxl_s'));"
        "if (s) { s.last = Date.now() - 31 * 60 * 1000;"
        "sessionStorage.setItem('cxl_s', JSON.stringify(s)); }"
    )
    page.reload()
    page.wait_for_function(f"JSON.parse(sessionStorage.getItem('cxl_s')).id !== '{first}'")
    state = json.loads(page.evaluate("sessionStorage.getItem('cxl_s')"))
    assert state["id"] != first and len(state["id"]) == 32


def test_single_page_app_routes_are_page_views(page: Any, site: str, collector: Collector) -> None:
    sid = _open(page, f"{site}/spa.html")
    page.wait_for_timeout(500)
    page.click("#go-settings")  # pushState and re-render: a page view, not a dead click
    page.wait_for_timeout(1200)
    page.go_back()  # popstate, straight back without touching the settings view
    page.wait_for_timeout(1200)
    page.goto("about:blank")
    collector.wait_for(sid, pagehides=1)

    events = _session_events(collector, sid)
    views = [(e.nav, e.url.removeprefix(site)) for e in events if e.type == "pageview"]
    assert views == [("load", "/spa.html"), ("push", "/spa/settings"), ("pop", "/spa.html")]
    result = score_session(events)
    assert [(s.type, s.url.removeprefix(site)) for s in result.signals] == [
        ("quick_back", "/spa/settings")
    ]


def test_taps_are_recorded_as_touch_clicks(browser: Any, site: str, collector: Collector) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    try:
        pg = context.new_page()
        sid = _open(pg, f"{site}/index.html")
        pg.tap("#more")
        pg.wait_for_timeout(300)
        pg.goto("about:blank")
        collector.wait_for(sid, pagehides=1)
    finally:
        context.close()
    [tap] = [e for b in collector.batches(sid) for e in b.events if e.type == "click"]
    assert (tap.sel, tap.pt, tap.kind) == ("button#more", "touch", "clickable")
