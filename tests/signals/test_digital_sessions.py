"""Stored sessions: 30 idle minutes close them, scoring stores signals, act hears frustration."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.insight.digital import score_session
from cxloop.insight.digital.events import event_from_stored
from cxloop.jobs import JobContext
from cxloop.signals import listeners
from cxloop.signals.customers import CustomerCreate, IdentityIn, upsert_customer
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.signals.digital_tasks import close_digital_sessions
from cxloop.store.models.digital import DigitalPageScore, DigitalSession, DigitalSignal
from tests.conftest import Org
from tests.digital_helpers import Visit, frustrated_visit, ingest, make_site


@pytest.fixture
def site(session: Session, org: Org) -> Any:
    return make_site(session, org.unit("store_a"))


def _row(session: Session) -> DigitalSession:
    session.expire_all()
    return session.scalars(select(DigitalSession)).one()


def test_a_session_closes_only_after_thirty_idle_minutes(session: Session, site: Any) -> None:
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    v = Visit()
    v.calm_page("/")
    ingest(session, site, v.batch(), received_at=t0)

    assert close_idle_sessions(session=session, now=t0 + timedelta(minutes=29)) == 0
    assert _row(session).status == "open"
    assert close_idle_sessions(session=session, now=t0 + timedelta(minutes=31)) == 1
    session.commit()
    row = _row(session)
    assert row.status == "closed" and row.dxs is not None and row.scored_at is not None


def test_a_late_batch_reopens_and_extends_the_session(session: Session, site: Any) -> None:
    t0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    v = Visit()
    v.calm_page("/")
    ingest(session, site, v.batch(), received_at=t0)
    close_idle_sessions(session=session, now=t0 + timedelta(hours=1))
    session.commit()
    v.calm_page("/bags")
    ingest(session, site, v.batch(), received_at=t0 + timedelta(minutes=40))
    row = _row(session)
    assert (row.status, row.batches, row.events) == ("open", 2, 22)
    assert row.last_seen_at == t0 + timedelta(minutes=40)


def test_closing_stores_exactly_what_score_session_finds(session: Session, site: Any) -> None:
    v = frustrated_visit()
    batch = v.batch()
    ingest(session, site, batch, received_at=datetime.now(UTC) - timedelta(hours=1))
    expected = score_session([event_from_stored(e) for e in batch["events"]])

    close_idle_sessions(session=session)
    session.commit()

    row = _row(session)
    stored = session.scalars(select(DigitalSignal).order_by(DigitalSignal.at_ms)).all()
    assert {s.type for s in stored} == {s.type for s in expected.signals} >= {"rage_click"}
    assert [(s.type, s.selector) for s in stored] == [
        (s.type, s.selector) for s in sorted(expected.signals, key=lambda s: s.at)
    ]
    assert row.dxs == expected.dxs and row.frustrated
    assert row.signal_count == len(expected.signals)
    assert row.engagement["pages"] == 2
    pages = session.scalars(select(DigitalPageScore).order_by(DigitalPageScore.position)).all()
    assert [p.url.rsplit("/", 1)[1] for p in pages] == ["shoes", "checkout"]
    assert pages[1].signals.get("rage_click") == 1 and pages[0].signals == {}
    assert pages[1].dxs < pages[0].dxs
    rage = next(s for s in stored if s.type == "rage_click")
    assert rage.selector == "button#apply-coupon" and rage.url.endswith("/checkout")
    # client time is mapped to server time through the session's clock offset
    assert abs((rage.at - row.started_at).total_seconds()) < 120


@pytest.fixture
def heard() -> Iterator[list[Any]]:
    """What the ``digital_session`` listeners are handed."""
    found: list[Any] = []

    def listen(session: Session, pairs: Sequence[Any]) -> None:
        found.extend(pairs)

    listeners.subscribe("digital_session", listen)
    yield found
    listeners.unsubscribe("digital_session", listen)


def test_a_frustrated_session_is_published(
    session: Session, site: Any, org: Org, heard: list[Any]
) -> None:
    customer, _ = upsert_customer(
        session=session,
        data=CustomerCreate(
            org_unit_id=org.unit("store_a").id,
            identities=[IdentityIn(kind="web_visitor_id", value="visitor-9")],
        ),
    )
    session.commit()
    frustrated = frustrated_visit()
    frustrated.customer_id = "visitor-9"
    ingest(session, site, frustrated.batch(), received_at=datetime.now(UTC) - timedelta(hours=1))
    calm = Visit()
    calm.calm_page("/")
    ingest(session, site, calm.batch(), received_at=datetime.now(UTC) - timedelta(hours=1))

    assert close_idle_sessions(session=session) == 2

    assert len(heard) == 1  # the calm session is not handed over
    closing, scored = heard[0]
    row = session.scalars(
        select(DigitalSession).where(DigitalSession.session_key == frustrated.session_id)
    ).one()
    assert closing.id == row.id and scored.session_id == row.id
    assert closing.org_unit_id == org.unit("store_a").id
    assert closing.customer_id == customer.id == row.customer_id
    assert scored.score.dxs == row.dxs
    assert "rage_click" in {s.type for s in scored.score.signals}


def test_a_failing_listener_does_not_lose_the_score(session: Session, site: Any) -> None:
    def boom(s: Session, pairs: Sequence[Any]) -> None:
        raise RuntimeError("rules are broken")

    listeners.subscribe("digital_session", boom)
    try:
        ingest(
            session, site, frustrated_visit().batch(), received_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        assert close_idle_sessions(session=session) == 1
    finally:
        listeners.unsubscribe("digital_session", boom)
    session.commit()
    assert _row(session).dxs is not None


def test_identify_links_by_crm_id_too(session: Session, site: Any, org: Org) -> None:
    customer, _ = upsert_customer(
        session=session,
        data=CustomerCreate(
            org_unit_id=org.unit("store_a").id,
            identities=[IdentityIn(kind="crm_id", value="CRM-77")],
        ),
    )
    session.commit()
    v = Visit()
    v.calm_page("/")
    ingest(session, site, v.batch())
    assert _row(session).customer_id is None
    v.customer_id = "CRM-77"
    v.calm_page("/account")
    ingest(session, site, v.batch())
    row = _row(session)
    assert (row.customer_ref, row.customer_id) == ("CRM-77", customer.id)


def test_the_periodic_task_closes_idle_sessions(settings: Any, session: Session, site: Any):
    v = Visit()
    v.calm_page("/")
    ingest(session, site, v.batch(), received_at=datetime.now(UTC) - timedelta(minutes=45))
    fresh = Visit()
    fresh.calm_page("/")
    ingest(session, site, fresh.batch())

    assert close_digital_sessions(JobContext(settings)) == 1
    session.expire_all()
    rows = session.execute(select(DigitalSession.session_key, DigitalSession.status)).all()
    statuses = {key: status for key, status in rows}
    assert statuses == {v.session_id: "closed", fresh.session_id: "open"}
