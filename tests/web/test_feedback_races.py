"""Simultaneous writers: the same record, the same customer, the first taxonomy use.

Each case runs with real concurrency (threads against the live app, or threads with their
own sessions), and once deterministically with two interleaved sessions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.insight.text import default_taxonomy
from cxloop.signals.feedback import IngestContext, finish, ingest, plan
from cxloop.signals.feedback_taxonomy import analyzer_for, ensure_seeded
from cxloop.store.engine import session_factory
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.feedback import Feedback, FeedbackTheme, TaxonomyState, ThemeDefinition
from tests.conftest import LiveServer, Org, bearer, make_api_key

THREADS = 6  # writers with their own sessions
SENDERS = 2  # the case; more time out on SQLite's lock on a loaded machine
TIMEOUT = 300  # seconds; the first request loads the analyzer on a busy machine
BODY = {
    "source": "review",
    "text": "配送が三日も遅れて本当に困りました。",
    "external_id": "race-1",
    "org_unit": "store_a",
    "occurred_at": "2024-05-01T10:00:00+09:00",
    "customer": {"email": "race@example.jp"},
}


def _all_at_once(fn: Callable[[int], Any], n: int = THREADS) -> list[Any]:
    """``fn(i)`` in ``n`` threads released together by a barrier."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_simultaneous_sends_of_one_record_store_it_once(
    live_server: LiveServer, session: Session, org: Org
):
    # The analyzer is built first (the server runs in this process): on a busy machine its
    # start-up could outlast SQLite's lock timeout. Seeding races are the last test's.
    analyzer_for(session=session)[0].analyze(["配送が遅れました。", "The delivery was late."])
    session.commit()
    headers = bearer(make_api_key(session, org.unit("acme"), ["feedback:write"]))

    def send(_: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}/api/v1/feedback", json=BODY, headers=headers, timeout=TIMEOUT
        )

    answers = _all_at_once(send, SENDERS)
    assert [r.status_code for r in answers if r.status_code not in (200, 201)] == []
    assert sorted(r.status_code for r in answers) == [200] * (SENDERS - 1) + [201]
    assert len({r.json()["id"] for r in answers}) == 1
    assert _count(session, Feedback) == 1
    assert _count(session, Customer) == 1 and _count(session, CustomerIdentity) == 1


def test_simultaneous_batches_with_changed_content_end_as_one_record(
    live_server: LiveServer, session: Session, org: Org
):
    analyzer_for(session=session)[0].analyze(["配送が遅れました。"])
    session.commit()
    headers = bearer(make_api_key(session, org.unit("acme"), ["feedback:write"]))

    def send(i: int) -> httpx.Response:
        item = {**BODY, "text": f"{BODY['text']} 注文番号 {i}。"}
        return httpx.post(
            f"{live_server.url}/api/v1/feedback",
            json={"items": [item]},
            headers=headers,
            timeout=TIMEOUT,
        )

    answers = _all_at_once(send, SENDERS)
    assert all(r.status_code == 200 for r in answers), [r.text for r in answers]
    statuses = sorted(r.json()["data"][0]["status"] for r in answers)
    assert statuses == ["created"] + ["updated"] * (SENDERS - 1)
    assert len({r.json()["data"][0]["id"] for r in answers}) == 1
    assert _count(session, Feedback) == 1
    themes = session.scalars(select(FeedbackTheme.theme_id)).all()
    assert themes.count("delivery") == 1  # the last update's themes only, not one per writer


def test_a_record_stored_between_plan_and_write_is_a_duplicate(
    settings: Any, session: Session, org: Org
):
    new_session = session_factory(settings.resolved_database_url)
    first, second = new_session(), new_session()
    try:
        context = IngestContext(scope=None)
        planned = plan(session=first, items=[BODY], context=context)
        assert len(planned.todo) == 1  # nothing stored yet: about to create
        (won,) = ingest(session=second, items=[BODY], context=IngestContext(scope=None))
        second.commit()
        assert won.status == "created"
        (result,) = finish(session=first, planned=planned, context=context)
        first.commit()
        assert (result.status, result.id) == ("duplicate", won.id)
        changed = {**BODY, "text": "The delivery was late."}
        planned = plan(session=first, items=[changed], context=context)
        (other,) = ingest(session=second, items=[{**changed, "rating": 1}], context=context)
        second.commit()
        assert other.status == "updated"
        (result,) = finish(session=first, planned=planned, context=context)
        first.commit()
        assert (result.status, result.id) == ("updated", won.id)
    finally:
        first.close()
        second.close()
    assert _count(session, Feedback) == 1
    assert _count(session, Customer) == 1 and _count(session, CustomerIdentity) == 1


def test_a_customer_created_between_plan_and_write_is_reused(
    settings: Any, session: Session, org: Org
):
    new_session = session_factory(settings.resolved_database_url)
    first, second = new_session(), new_session()
    try:
        context = IngestContext(scope=None)
        planned = plan(session=first, items=[{**BODY, "external_id": "a"}], context=context)
        ingest(session=second, items=[{**BODY, "external_id": "b"}], context=context)
        second.commit()
        (result,) = finish(session=first, planned=planned, context=context)
        first.commit()
        assert result.status == "created"
    finally:
        first.close()
        second.close()
    customers = session.scalars(select(Feedback.customer_id)).all()
    assert len(customers) == 2 and len(set(customers)) == 1
    assert _count(session, Customer) == 1  # the loser's customer was not left behind


def test_simultaneous_first_uses_seed_the_taxonomy_once(settings: Any, session: Session):
    new_session = session_factory(settings.resolved_database_url)

    def seed(_: int) -> int:
        with new_session() as s:
            version = ensure_seeded(s).version
            s.commit()
            return version

    assert _all_at_once(seed) == [1] * THREADS
    assert _count(session, TaxonomyState) == 1
    assert _count(session, ThemeDefinition) == len(default_taxonomy().themes)
