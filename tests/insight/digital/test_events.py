"""The tracker batch model the collector validates with, and its conversion to Events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from cxloop.insight.digital.events import (
    MAX_EVENTS_PER_BATCH,
    Event,
    batch_events,
    event_from_stored,
    events_from_wire,
    ordered,
    parse_batch,
)

URL = "https://shop.test/cart"


def _batch(events: list[dict[str, Any]] | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "site_key": "site_demo",
        "session_id": "0123456789abcdef0123456789abcdef",
        "batch_id": "fedcba9876543210fedcba9876543210",
        "customer_id": None,
        "sent_at": 1_700_000_003_000,
        "events": events if events is not None else _every_event(),
        **kw,
    }


def _every_event() -> list[dict[str, Any]]:
    base = [
        {"type": "pageview", "nav": "load", "ref": "", "vw": 1280, "vh": 800, "dh": 3000},
        {
            "type": "click",
            "x": 10,
            "y": 20.5,
            "sel": "button#buy",
            "tag": "button",
            "kind": "clickable",
            "pt": "mouse",
        },
        {"type": "move", "x": 11, "y": 21},
        {"type": "scroll", "y": 400, "vh": 800, "dh": 3000},
        {"type": "resize", "w": 800, "h": 1280},
        {"type": "orientation", "o": "portrait", "w": 800, "h": 1280},
        {"type": "visibility", "state": "hidden"},
        {"type": "focus", "state": "blur"},
        {"type": "mutation"},
        {
            "type": "error",
            "name": "TypeError",
            "src": "https://shop.test/app.js",
            "line": 3,
            "col": 9,
        },
        {"type": "field_focus", "sel": "input#email", "form": "form#signup", "kind": "email"},
        {"type": "field_input", "sel": "input#email", "form": "form#signup", "kind": "email"},
        {"type": "field_blur", "sel": "input#email", "form": "form#signup", "kind": "email"},
        {"type": "submit", "form": "form#signup"},
        {"type": "pagehide"},
    ]
    return [{**e, "ts": 1_700_000_000_000 + i, "seq": i, "url": URL} for i, e in enumerate(base)]


def test_every_event_type_parses_and_flattens() -> None:
    batch = parse_batch(json.dumps(_batch()))
    events = batch_events(batch)
    assert [e.type for e in events] == [e["type"] for e in _every_event()]
    click = events[1]
    assert (click.x, click.y, click.selector, click.kind, click.name) == (
        10.0,
        20.5,
        "button#buy",
        "clickable",
        "button",
    )
    assert events[5].state == "portrait" and events[5].vw == 800
    assert events[9].name == "TypeError"
    assert (events[11].selector, events[11].form) == ("input#email", "form#signup")
    assert events[13].form == "form#signup"


def test_stored_wire_events_round_trip() -> None:
    assert events_from_wire(_every_event()) == batch_events(parse_batch(json.dumps(_batch())))


def test_stored_events_flatten_like_validated_ones() -> None:
    batch = parse_batch(json.dumps(_batch()))
    stored = [e.model_dump() for e in batch.events]
    assert [event_from_stored(d) for d in stored] == batch_events(batch)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "keypress", "key": "a"},  # unknown type
        {"type": "move", "x": 1, "y": 2, "value": "secret"},  # extra field
        {"type": "move", "x": "1", "y": 2},  # strings are not numbers
        {"type": "move", "x": True, "y": 2},  # nor are booleans
        {"type": "click", "x": 1, "y": 2, "sel": "a" * 513, "tag": "a", "kind": "other"},
        {"type": "click", "x": 1, "y": 2, "sel": "a", "tag": "a", "kind": "huge"},
        {"type": "visibility", "state": "prerender"},
    ],
)
def test_bad_events_are_rejected(bad: dict[str, Any]) -> None:
    event = {**bad, "ts": 1, "seq": 0, "url": URL}
    with pytest.raises(ValidationError):
        parse_batch(json.dumps(_batch([event])))


@pytest.mark.parametrize(
    "override",
    [
        {"v": 2},
        {"site_key": "bad key!"},
        {"session_id": "short"},
        {"batch_id": "x" * 65},
        {"customer_id": "c" * 129},
        {"sent_at": -1},
        {"extra": 1},
    ],
)
def test_bad_envelopes_are_rejected(override: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        parse_batch(json.dumps(_batch(**override)))


def test_batch_size_limits() -> None:
    move = {"type": "move", "x": 1, "y": 1, "url": URL}
    full = [{**move, "ts": i, "seq": i} for i in range(MAX_EVENTS_PER_BATCH)]
    assert len(parse_batch(json.dumps(_batch(full))).events) == MAX_EVENTS_PER_BATCH
    with pytest.raises(ValidationError):
        parse_batch(json.dumps(_batch([*full, {**move, "ts": 0, "seq": 500}])))
    with pytest.raises(ValidationError):
        parse_batch(json.dumps(_batch([])))
    with pytest.raises(ValueError, match="larger than"):
        parse_batch(b" " * (256 * 1024 + 1))


def test_ordered_sorts_by_time_then_sequence_and_drops_resends() -> None:
    a = Event("move", 10, 1, URL)
    b = Event("click", 10, 2, URL)
    c = Event("move", 5, 3, URL)  # clock stepped back: time still wins
    assert ordered([b, a, c, a, b]) == [c, a, b]
