"""Batched closing gives what scoring each session on its own gives, field by field."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.insight.digital import (
    SIGNAL_TYPES,
    Event,
    event_from_stored,
    score_session,
    score_stored,
)
from cxloop.insight.digital.events import events_from_stored
from cxloop.insight.digital.synthetic import synthetic_session, to_wire
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.store.models.digital import DigitalPageScore, DigitalSession, DigitalSignal
from tests.conftest import Org
from tests.digital_helpers import ORIGIN, Visit, frustrated_visit, ingest, make_site

# One event of every wire type, every optional field present or absent.
EVERY_TYPE: list[dict[str, Any]] = [
    {"type": "pageview", "nav": "load", "ref": "r", "vw": 1, "vh": 2, "dh": 3},
    {"type": "pageview", "nav": "push", "vw": 1, "vh": 2, "dh": 3},
    {"type": "click", "x": 1.5, "y": 2, "sel": "a#b", "tag": "a", "kind": "clickable", "pt": ""},
    {"type": "click", "x": 1, "y": 2, "sel": "i", "tag": "input", "kind": "input"},
    {"type": "move", "x": -4.25, "y": 9},
    {"type": "scroll", "y": 120.5, "vh": 800, "dh": 3000},
    {"type": "resize", "w": 640, "h": 480},
    {"type": "orientation", "o": "landscape", "w": 800, "h": 400},
    {"type": "visibility", "state": "hidden"},
    {"type": "focus", "state": "blur"},
    {"type": "mutation"},
    {"type": "error", "name": "TypeError", "src": "s.js", "line": 3, "col": 4},
    {"type": "error", "name": "Error"},
    {"type": "field_focus", "sel": "#email", "form": "form#f", "kind": "email"},
    {"type": "field_input", "sel": "#email"},
    {"type": "field_blur", "sel": "#email", "form": "", "kind": "text"},
    {"type": "submit", "form": "form#f"},
    {"type": "pagehide"},
]


def _stored(i: int, d: dict[str, Any]) -> dict[str, Any]:
    return {"ts": 1_700_000_000_000 + i, "seq": i, "url": ORIGIN + "/p", **d}


def test_events_from_stored_equal_event_from_stored_field_by_field():
    dicts = [_stored(i, d) for i, d in enumerate(EVERY_TYPE)]
    one_by_one = [event_from_stored(d) for d in json.loads(json.dumps(dicts))]

    batched = events_from_stored(json.loads(json.dumps(dicts)))

    assert [dataclasses.astuple(e) for e in batched] == [dataclasses.astuple(e) for e in one_by_one]
    assert all(isinstance(e, Event) for e in batched)
    assert batched[2].selector == "a#b" and batched[2].name == "a"
    assert batched[16].selector == batched[16].form == "form#f"
    assert (batched[7].state, batched[7].vw, batched[7].vh) == ("landscape", 800, 400)
    assert batched[10].x == 0.0 and batched[10].selector == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        batched[0].ts = 5  # type: ignore[misc]


def test_generated_sessions_score_the_same_from_either_reader():
    rng = np.random.default_rng(5)
    for i in range(60):
        frustration = list(rng.choice(SIGNAL_TYPES, size=1 + i % 3, replace=False))
        wire = [to_wire(e) for e in synthetic_session(rng, frustration=frustration)]
        text = json.dumps(wire)
        slow = score_session([event_from_stored(d) for d in json.loads(text)])
        fast = score_session(events_from_stored(json.loads(text)))
        assert fast == slow
        # the closing path: dicts scored as they are, in any order, with resent events
        resent = json.loads(text) + json.loads(text)[: 20 + i]
        random.Random(i).shuffle(resent)
        assert score_stored(resent) == slow
        assert score_stored(json.loads(text)) == slow


@pytest.fixture
def site(session: Session, org: Org) -> Any:
    return make_site(session, org.unit("store_a"))


def _stored_results(session: Session, session_id: int) -> tuple[Any, ...]:
    row = session.get(DigitalSession, session_id)
    assert row is not None
    signals = session.execute(
        select(
            DigitalSignal.type,
            DigitalSignal.at,
            DigitalSignal.at_ms,
            DigitalSignal.url,
            DigitalSignal.selector,
            DigitalSignal.details,
        )
        .where(DigitalSignal.session_id == session_id)
        .order_by(DigitalSignal.at_ms, DigitalSignal.type, DigitalSignal.selector)
    ).all()
    pages = session.execute(
        select(
            DigitalPageScore.position,
            DigitalPageScore.url,
            DigitalPageScore.views,
            DigitalPageScore.dxs,
            DigitalPageScore.active_ms,
            DigitalPageScore.max_scroll_depth,
            DigitalPageScore.signals,
        )
        .where(DigitalPageScore.session_id == session_id)
        .order_by(DigitalPageScore.position)
    ).all()
    figures = (row.status, row.dxs, row.pillars, row.engagement, row.pages, row.signal_count)
    return figures + (row.frustrated, [tuple(s) for s in signals], [tuple(p) for p in pages])


def test_closing_in_chunks_stores_what_closing_one_by_one_stores(session: Session, site: Any):
    received = datetime.now(UTC) - timedelta(hours=1)
    visits = [frustrated_visit() for _ in range(4)]
    for i in range(3):
        calm = Visit()
        calm.calm_page(f"/calm{i}")
        visits.append(calm)
    for v in visits:
        ingest(session, site, v.batch(), received_at=received)
    ids = session.scalars(select(DigitalSession.id).order_by(DigitalSession.id)).all()

    assert close_idle_sessions(session=session, chunk=3) == len(visits)
    session.commit()
    session.expire_all()
    chunked = {i: _stored_results(session, i) for i in ids}

    # reopen every session and close them again one at a time: the old results are replaced
    session.execute(DigitalSession.__table__.update().values(status="open"))
    session.commit()
    assert close_idle_sessions(session=session, chunk=1) == len(visits)
    session.commit()
    session.expire_all()
    single = {i: _stored_results(session, i) for i in ids}

    assert chunked == single
    assert all(r[0] == "closed" for r in chunked.values())
    assert sum(r[6] for r in chunked.values()) == 4  # the four frustrated visits
    total = session.scalar(select(func.count()).select_from(DigitalSignal))
    assert total == sum(len(r[7]) for r in chunked.values()) > 0


def test_a_session_without_batches_is_closed_without_a_score(session: Session, site: Any):
    v = Visit()
    v.calm_page("/")
    ingest(session, site, v.batch(), received_at=datetime.now(UTC) - timedelta(hours=1))
    row = session.scalars(select(DigitalSession)).one()
    session.execute(
        DigitalSession.__table__.insert().values(
            site_id=row.site_id,
            org_unit_id=row.org_unit_id,
            session_key="empty-session-key",
            status="open",
            started_at=row.started_at,
            last_seen_at=row.last_seen_at,
        )
    )
    session.commit()

    assert close_idle_sessions(session=session) == 1
    session.commit()
    session.expire_all()
    rows = session.execute(select(DigitalSession.session_key, DigitalSession.status)).all()
    statuses = {key: status for key, status in rows}
    assert statuses == {v.session_id: "closed", "empty-session-key": "closed"}
    empty = session.scalars(
        select(DigitalSession).where(DigitalSession.session_key == "empty-session-key")
    ).one()
    assert empty.dxs is None and empty.scored_at is None
