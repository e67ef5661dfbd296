"""Rejections that name no active site: tallied by the collector, written in batches, shown
to admins who see the whole company; an inactive site's refusals count on its own page."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.digital_counts import MAX_KEYS_PER_WRITE, OTHER_KEYS, add_unknown_counts
from cxloop.signals.digital_writer import BatchWriter
from cxloop.store.models.digital import DigitalUnknownKeyCount
from cxloop.web.pages.collector import CollectorState
from tests.conftest import Org, bearer, login, make_api_key
from tests.digital_helpers import ORIGIN, Visit, body, make_site

TEXT = {"Content-Type": "text/plain;charset=UTF-8", "Origin": ORIGIN}


@pytest.fixture
def site(session: Session, org: Org) -> Any:
    return make_site(session, org.unit("store_a"))


def _post(client: TestClient, key: str) -> int:
    v = Visit(site_key=key)
    v.calm_page("/")
    return client.post("/collect", content=body(v.batch()), headers=TEXT).status_code


def _stored(session: Session) -> dict[tuple[str, str], int]:
    session.expire_all()
    c = DigitalUnknownKeyCount
    return {(k, r): n for k, r, n in session.execute(select(c.site_key, c.reason, c.batches))}


def test_the_writer_thread_writes_the_tally_without_being_asked(
    client: TestClient, session: Session, site: Any
) -> None:
    for _ in range(3):
        assert _post(client, "cxs_typo_key") == 401
    assert _stored(session) == {}  # nothing written per request
    writer = client.app.state.digital_collector.writer  # type: ignore[attr-defined]
    written = threading.Event()
    flush = writer.flush_unknown

    def watched() -> None:
        flush()
        if not writer.unknown:
            written.set()

    writer.flush_unknown = watched
    assert written.wait(30), "the writer thread never wrote its tally"
    assert _stored(session) == {("cxs_typo_key", "unknown_site"): 3}


def test_counts_add_up_across_writes_and_bad_keys_are_not_stored_as_given(
    client: TestClient, session: Session, site: Any
) -> None:
    assert _post(client, "cxs_typo_key") == 401
    writer = client.app.state.digital_collector.writer  # type: ignore[attr-defined]
    writer.flush_unknown()
    assert _post(client, "cxs_typo_key") == 401
    evil = client.post(
        "/collect", content=b'{"v": 1, "site_key": "<script>x</script>"}', headers=TEXT
    )
    assert evil.status_code == 401  # invalid batch, its key names no site
    writer.flush_unknown()
    assert _stored(session) == {
        ("cxs_typo_key", "unknown_site"): 2,
        ("(invalid)", "unknown_site"): 1,
    }


def test_random_keys_cannot_grow_the_table_without_bound(session: Session) -> None:
    today = date.today()
    counts = Counter({(f"k{i:04d}", today, "unknown_site"): 1 for i in range(500)})
    counts[("k_loud", today, "unknown_site")] = 9
    add_unknown_counts(session=session, counts=counts)
    session.commit()
    stored = _stored(session)
    assert len(stored) == MAX_KEYS_PER_WRITE + 1
    assert stored[("k_loud", "unknown_site")] == 9
    assert sum(stored.values()) == 509
    assert stored[(OTHER_KEYS, "unknown_site")] == 500 - (MAX_KEYS_PER_WRITE - 1)


def test_an_inactive_site_shows_its_refusals_in_its_counts(
    client: TestClient, session: Session, org: Org, site: Any
) -> None:
    site.active = False
    session.commit()
    assert _post(client, site.site_key) == 401
    client.app.state.digital_collector.writer.flush_unknown()  # type: ignore[attr-defined]
    reader = bearer(make_api_key(session, org.unit("store_a"), ["digital:read"]))
    r = client.get(f"/api/v1/digital/sites/{site.id}/counts", headers=reader)
    assert r.status_code == 200, r.text
    assert r.json()["outcomes"] == {"unknown_site": {"batches": 1, "events": 0}}
    # a key that belongs to a site is not listed among the unknown ones
    admin = bearer(make_api_key(session, org.unit("acme"), ["digital:admin"]))
    assert client.get("/api/v1/digital/unknown-keys", headers=admin).json() == []


def test_unknown_keys_api_and_page_only_for_admins_of_the_whole_company(
    client: TestClient, session: Session, org: Org, site: Any
) -> None:
    assert _post(client, "cxs_old_key") == 401
    assert client.post("/collect", content=b"x" * 70_000, headers=TEXT).status_code == 413
    client.app.state.digital_collector.writer.flush_unknown()  # type: ignore[attr-defined]

    admin = bearer(make_api_key(session, org.unit("acme"), ["digital:admin"]))
    r = client.get("/api/v1/digital/unknown-keys", headers=admin)
    assert r.status_code == 200, r.text
    got = {(u["site_key"], u["reason"], u["batches"]) for u in r.json()}
    assert got == {("cxs_old_key", "unknown_site", 1), ("", "too_large", 1)}

    east_admin = bearer(make_api_key(session, org.unit("east"), ["digital:admin"]))
    assert client.get("/api/v1/digital/unknown-keys", headers=east_admin).status_code == 403
    reader = bearer(make_api_key(session, org.unit("acme"), ["digital:read"]))
    assert client.get("/api/v1/digital/unknown-keys", headers=reader).status_code == 403

    login(client, "admin@acme.example")
    page = client.get("/digital/sites")
    assert 'data-testid="unknown-keys"' in page.text and "cxs_old_key" in page.text
    assert "(no key)" in page.text and "Rejected: too large" in page.text
    login(client, "manager_a@acme.example")
    page = client.get("/digital/sites")
    assert page.status_code == 200 and "cxs_old_key" not in page.text


def test_a_graceful_shutdown_writes_what_the_tally_still_holds(
    app: FastAPI, session: Session, site: Any
) -> None:
    state = CollectorState(app.state.settings.resolved_database_url)
    state.writer = BatchWriter(state.writer.url, flush_s=3600, idle_exit_s=3600)  # never by time
    app.state.digital_collector = state
    with TestClient(app, base_url="http://testserver") as client:
        assert _post(client, "cxs_typo_key") == 401
        assert _stored(session) == {}
    assert _stored(session) == {("cxs_typo_key", "unknown_site"): 1}
