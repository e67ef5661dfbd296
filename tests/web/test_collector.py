"""POST /collect and GET /t.js: good batches stored once, every bad input refused and counted."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.signals.digital_collect import MAX_WIRE_BYTES, RateLimiter
from cxloop.store.models.digital import (
    DigitalBatch,
    DigitalCollectCount,
    DigitalSession,
    DigitalUnknownKeyCount,
)
from tests.conftest import Org
from tests.digital_helpers import ORIGIN, SITE_KEY, Visit, body, make_site

TEXT = {"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN}


@pytest.fixture
def site(session: Session, org: Org) -> Any:
    return make_site(session, org.unit("store_a"))


def counts(session: Session) -> dict[str, tuple[int, int]]:
    session.expire_all()
    rows = session.execute(
        select(DigitalCollectCount.outcome, DigitalCollectCount.batches, DigitalCollectCount.events)
    )
    return {o: (b, e) for o, b, e in rows}


def unknown(client: TestClient, session: Session) -> dict[tuple[str, str], int]:
    """The stored counts of rejections that named no active site, once the collector's
    writer has written its tally."""
    client.app.state.digital_collector.writer.flush_unknown()  # type: ignore[attr-defined]
    session.expire_all()
    c = DigitalUnknownKeyCount
    return {(k, r): n for k, r, n in session.execute(select(c.site_key, c.reason, c.batches))}


def post(client: TestClient, batch: dict[str, Any] | bytes, **headers: str) -> Any:
    data = batch if isinstance(batch, bytes) else body(batch)
    return client.post("/collect", content=data, headers={**TEXT, **headers})


def calm_batch() -> dict[str, Any]:
    v = Visit()
    v.calm_page("/shoes")
    return v.batch()


def test_good_batch_is_stored_with_its_session(client: TestClient, session: Session, site: Any):
    batch = calm_batch()

    r = post(client, batch)

    assert r.status_code == 200, r.text
    assert r.json() == {"status": "accepted", "events": len(batch["events"])}
    assert r.headers["access-control-allow-origin"] == ORIGIN
    stored = session.scalars(select(DigitalBatch)).one()
    assert stored.batch_key == batch["batch_id"] and stored.org_unit_id == site.org_unit_id
    assert json.loads(stored.body)["events"] == batch["events"]
    row = session.scalars(select(DigitalSession)).one()
    assert (row.session_key, row.status, row.events) == (batch["session_id"], "open", 11)
    assert row.entry_url == ORIGIN + "/shoes"
    assert counts(session) == {"accepted": (1, 11)}


def test_resent_batch_is_answered_as_duplicate_and_stored_once(
    client: TestClient, session: Session, site: Any
):
    batch = calm_batch()
    first, again = post(client, batch), post(client, batch)

    assert (first.status_code, first.json()["status"]) == (200, "accepted")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")
    assert session.scalar(select(func.count()).select_from(DigitalBatch)) == 1
    assert session.scalars(select(DigitalSession.events)).one() == len(batch["events"])
    assert counts(session) == {"accepted": (1, 11), "duplicate": (1, 11)}


def test_sendbeacon_json_and_server_posts_without_origin_are_accepted(
    client: TestClient, session: Session, site: Any
):
    as_json = client.post(
        "/collect",
        content=body(calm_batch()),
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    no_origin = client.post("/collect", content=body(calm_batch()))
    assert as_json.status_code == 200 and no_origin.status_code == 200
    assert "access-control-allow-origin" not in no_origin.headers
    assert counts(session)["accepted"][0] == 2


def test_wrong_site_key_is_401(client: TestClient, session: Session, site: Any):
    v = Visit(site_key="cxs_not_a_site")
    v.calm_page("/")
    r = post(client, v.batch())
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unknown_site"
    assert session.scalar(select(func.count()).select_from(DigitalBatch)) == 0
    assert unknown(client, session) == {("cxs_not_a_site", "unknown_site"): 1}


def test_inactive_site_is_401(client: TestClient, session: Session, site: Any):
    site.active = False
    session.commit()
    assert post(client, calm_batch()).status_code == 401


def test_disallowed_origin_is_403_without_cors_header(
    client: TestClient, session: Session, site: Any
):
    r = post(client, calm_batch(), Origin="https://evil.example")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers
    assert session.scalar(select(func.count()).select_from(DigitalBatch)) == 0
    assert counts(session) == {"origin_not_allowed": (1, 0)}


def test_oversize_body_is_413_by_length_and_while_streaming(
    client: TestClient, session: Session, site: Any
):
    big = b"x" * (MAX_WIRE_BYTES + 1)
    declared = post(client, big)

    def chunks() -> Any:  # no Content-Length: the limit applies while reading
        for _ in range(40):
            yield b"y" * 2048

    streamed = client.post("/collect", content=chunks(), headers=TEXT)

    assert declared.status_code == 413 and streamed.status_code == 413
    assert declared.json()["error"]["code"] == "too_large"
    assert unknown(client, session) == {("", "too_large"): 2}


def test_gzip_body_is_accepted(client: TestClient, session: Session, site: Any):
    batch = calm_batch()
    r = post(client, gzip.compress(body(batch)), **{"Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert session.scalars(select(DigitalBatch.batch_key)).one() == batch["batch_id"]


def test_gzip_bomb_is_413_and_broken_gzip_400(client: TestClient, site: Any):
    bomb = gzip.compress(b" " * (20 * 1024 * 1024))  # 20 MiB of spaces, ~20 KiB zipped
    assert len(bomb) < MAX_WIRE_BYTES
    r = post(client, bomb, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"

    broken = post(client, b"\x1f\x8b not gzip at all", **{"Content-Encoding": "gzip"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_gzip"
    brotli = post(client, b"abc", **{"Content-Encoding": "br"})
    assert brotli.status_code == 415


def test_malformed_json_is_400(client: TestClient, session: Session, site: Any):
    r = post(client, b'{"v": 1, "site_key": ')
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed_json"


def test_invalid_batch_is_422_with_the_reason_and_counted_for_its_site(
    client: TestClient, session: Session, site: Any
):
    batch = calm_batch()
    batch["events"][3]["type"] = "keylogger"
    r = post(client, batch)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_batch"
    assert err["message"].startswith("events.3")
    assert "keylogger" in err["message"] or "tag" in err["message"]

    no_events = calm_batch() | {"events": []}
    assert post(client, no_events).status_code == 422
    extra = calm_batch() | {"password": "x"}
    assert "password" in post(client, extra).json()["error"]["message"]
    assert session.scalar(select(func.count()).select_from(DigitalBatch)) == 0
    assert counts(session) == {"invalid_batch": (3, 0)}


def test_events_far_in_the_future_or_past_are_dropped_and_counted(
    client: TestClient, session: Session, site: Any
):
    v = Visit()
    v.calm_page("/")
    batch = v.batch()
    sent = batch["sent_at"]
    batch["events"][4]["ts"] = sent + 3_600_000  # an hour after it was sent
    batch["events"][5]["ts"] = sent - 3 * 86_400_000  # three days before

    r = post(client, batch)

    assert r.status_code == 200
    assert r.json() == {"status": "accepted", "events": 9, "dropped_out_of_time_range": 2}
    stored = session.scalars(select(DigitalBatch)).one()
    kept = json.loads(stored.body)["events"]
    assert len(kept) == stored.n_events == 9
    assert all(sent - 86_400_000 <= e["ts"] <= sent + 60_000 for e in kept)
    assert counts(session) == {"accepted": (1, 9), "events_dropped_time": (0, 2)}

    all_bad = Visit()
    all_bad.calm_page("/")
    late = all_bad.batch()
    late["sent_at"] -= 10 * 86_400_000
    r = post(client, late)
    assert r.status_code == 422 and r.json()["error"]["code"] == "events_out_of_time_range"


def test_a_wrong_client_clock_is_kept_and_noted(client: TestClient, session: Session, site: Any):
    v = Visit(start_ms=1_500_000_000_000)  # a browser whose clock says 2017
    v.calm_page("/")
    assert post(client, v.batch()).status_code == 200
    assert counts(session)["clock_skew"] == (1, 0)


def test_rate_limit_per_site_and_client(client: TestClient, session: Session, site: Any):
    clock = [0.0]
    post(client, calm_batch())  # creates the collector state
    state = client.app.state  # type: ignore[attr-defined]
    state.digital_collector.limiter = RateLimiter(rate=1.0, burst=2.0, clock=lambda: clock[0])

    codes = [post(client, calm_batch()).status_code for _ in range(3)]
    clock[0] += 1.0  # one token back
    after = post(client, calm_batch())

    assert codes == [200, 200, 429]
    assert after.status_code == 200
    assert counts(session)["rate_limited"] == (1, 0)
    assert counts(session)["accepted"][0] == 4


def test_unsupported_content_type_is_415(client: TestClient, site: Any):
    r = client.post(
        "/collect",
        content=body(calm_batch()),
        headers={"Content-Type": "multipart/form-data; boundary=x", "Origin": ORIGIN},
    )
    assert r.status_code == 415


def test_preflight_answers_only_allowed_origins(client: TestClient, site: Any):
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-encoding",
    }
    ok = client.options("/collect", headers={"Origin": ORIGIN, **ask})
    by_key = client.options(f"/collect?k={SITE_KEY}", headers={"Origin": ORIGIN, **ask})
    bad = client.options("/collect", headers={"Origin": "https://evil.example", **ask})
    bad_key = client.options("/collect?k=nope", headers={"Origin": ORIGIN, **ask})

    assert ok.status_code == 204 and by_key.status_code == 204
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert "content-encoding" in ok.headers["access-control-allow-headers"].lower()
    assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers
    assert bad_key.status_code == 403


def test_tracker_script_is_javascript_with_caching(client: TestClient):
    plain = client.get("/t.js", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/t.js", headers={"Accept-Encoding": "gzip"})

    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("application/javascript")
    assert "max-age=" in plain.headers["cache-control"]
    assert "cxloop" in plain.text and "sendBeacon" in plain.text
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == plain.text  # httpx unzips
    etag = plain.headers["etag"]
    again = client.get("/t.js", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_counts_per_site_are_separate(client: TestClient, session: Session, org: Org, site: Any):
    make_site(session, org.unit("store_c"), key="cxs_other_site", origins=("https://c.example",))
    v = Visit(site_key="cxs_other_site")
    v.calm_page("/")
    r = post(client, v.batch(), Origin="https://c.example")
    assert r.status_code == 200
    assert post(client, calm_batch()).status_code == 200
    session.expire_all()
    per_site = dict(
        session.execute(
            select(DigitalCollectCount.site_id, DigitalCollectCount.batches).where(
                DigitalCollectCount.outcome == "accepted"
            )
        ).all()
    )
    assert per_site[site.id] == 1 and len(per_site) == 2
    assert json.loads(r.text)["status"] == "accepted"


def test_collect_carries_security_headers_and_refuses_other_methods(client: TestClient, site: Any):
    r = post(client, calm_batch())
    assert r.status_code == 200
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-type"] == "application/json"

    other = client.get("/collect")
    assert other.status_code == 405
    assert other.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in other.headers["allow"]
