"""Pointer and scroll detectors at their threshold edges (just below / at / just above)."""

from __future__ import annotations

import pytest

from cxloop.insight.digital.detectors import (
    dead_clicks,
    detect,
    device_rotation,
    error_clicks,
    excessive_scroll,
    rage_clicks,
    scroll_norms,
    thrashed_cursor,
)
from cxloop.insight.digital.thresholds import Thresholds

from .conftest import SessionBuilder


def _clicks(sb: SessionBuilder, gaps: list[int], dx: float = 0.0) -> None:
    sb.pageview("https://shop.test/cart")
    sb.click(100)
    for i, gap in enumerate(gaps, start=1):
        sb.click(gap, x=100 + dx * i)


@pytest.mark.parametrize(("gap", "found"), [(998, 1), (999, 1), (1000, 0), (1001, 0)])
def test_rage_click_gap_must_stay_under_a_second(sb: SessionBuilder, gap: int, found: int) -> None:
    _clicks(sb, [gap, gap])
    assert len(rage_clicks(sb.events)) == found


@pytest.mark.parametrize(("clicks", "found"), [(2, 0), (3, 1), (4, 1)])
def test_rage_click_needs_three_clicks(sb: SessionBuilder, clicks: int, found: int) -> None:
    _clicks(sb, [200] * (clicks - 1))
    signals = rage_clicks(sb.events)
    assert len(signals) == found
    if found:
        assert signals[0].details["clicks"] == clicks
        assert signals[0].selector == "button#buy"
        assert signals[0].url == "https://shop.test/cart"


@pytest.mark.parametrize(("last_dx", "found"), [(29.0, 1), (30.0, 1), (30.5, 0)])
def test_rage_click_radius_is_measured_from_the_first_click(
    sb: SessionBuilder, last_dx: float, found: int
) -> None:
    sb.pageview("https://shop.test/")
    sb.click(0, x=100)
    sb.click(200, x=110)
    sb.click(200, x=100 + last_dx)
    assert len(rage_clicks(sb.events)) == found


def test_rage_burst_is_not_also_reported_as_dead_clicks(sb: SessionBuilder) -> None:
    _clicks(sb, [150, 150, 150])
    sb.move(5000, 10, 10)
    assert [s.type for s in detect(sb.events)] == ["rage_click"]


@pytest.mark.parametrize(("reply_after", "dead"), [(999, 0), (1000, 0), (1001, 1)])
def test_dead_click_window_is_one_second(sb: SessionBuilder, reply_after: int, dead: int) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000)
    sb.add("mutation", reply_after)
    sb.move(3000, 5, 5)
    assert len(dead_clicks(sb.events)) == dead


@pytest.mark.parametrize("reply", ["mutation", "scroll", "pageview", "pagehide", "visibility"])
def test_any_page_reaction_prevents_a_dead_click(sb: SessionBuilder, reply: str) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000)
    sb.add(reply, 300, state="hidden")
    sb.move(3000, 5, 5)
    assert dead_clicks(sb.events) == []


def test_dead_click_reports_the_target(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000, selector="main>button.apply")
    sb.move(3000, 5, 5)
    [signal] = dead_clicks(sb.events)
    assert (signal.type, signal.selector, signal.details["tag"]) == (
        "dead_click",
        "main>button.apply",
        "button",
    )


@pytest.mark.parametrize(
    ("kind", "only_clickable", "dead"),
    [
        ("input", False, 0),
        ("other", True, 0),
        ("other", False, 1),
        ("clickable", True, 1),
    ],
)
def test_dead_click_ignores_inputs_and_optionally_plain_text(
    sb: SessionBuilder, kind: str, only_clickable: bool, dead: int
) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000, kind=kind)
    sb.move(3000, 5, 5)
    th = Thresholds(dead_click_only_clickable=only_clickable)
    assert len(dead_clicks(sb.events, th)) == dead


def test_dead_click_is_not_judged_when_the_stream_ends_inside_its_window(
    sb: SessionBuilder,
) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000)
    sb.move(1000, 5, 5)  # exactly at the window's end: not yet observed past it
    assert dead_clicks(sb.events) == []
    sb.move(1, 6, 6)
    assert len(dead_clicks(sb.events)) == 1


@pytest.mark.parametrize(("error_after", "found"), [(999, 1), (1000, 1), (1001, 0)])
def test_error_click_window(sb: SessionBuilder, error_after: int, found: int) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000, selector="button#pay")
    sb.add("error", error_after, name="TypeError")
    sb.move(3000, 5, 5)
    signals = error_clicks(sb.events)
    assert len(signals) == found
    if found:
        assert signals[0].selector == "button#pay"
        assert signals[0].details["error"] == "TypeError"
        # The same click is not also a dead click.
        assert dead_clicks(sb.events) == []


def _zigzag(sb: SessionBuilder, samples: int, amplitude: float, dt: int = 125) -> None:
    sb.pageview("https://shop.test/")
    sb.move(1000, 300, 300)
    for i in range(1, samples):
        sb.move(dt, 300 + (amplitude if i % 2 else 0), 300)


@pytest.mark.parametrize(("samples", "found"), [(6, 0), (7, 1), (8, 1)])
def test_thrash_needs_five_reversals(sb: SessionBuilder, samples: int, found: int) -> None:
    _zigzag(sb, samples, 300)  # n samples make n - 2 reversals
    signals = thrashed_cursor(sb.events)
    assert len(signals) == found
    if found:
        assert signals[0].details["reversals"] == samples - 2


@pytest.mark.parametrize(("amplitude", "found"), [(49.9, 0), (50.0, 1), (50.1, 1)])
def test_thrash_minimum_speed(sb: SessionBuilder, amplitude: float, found: int) -> None:
    _zigzag(sb, 7, amplitude)  # 50 px per 125 ms is exactly 400 px/s
    th = Thresholds(thrash_min_accel_px_s2=1.0)
    assert len(thrashed_cursor(sb.events, th)) == found


@pytest.mark.parametrize(("amplitude", "found"), [(62.4, 0), (62.5, 1), (62.6, 1)])
def test_thrash_minimum_acceleration(sb: SessionBuilder, amplitude: float, found: int) -> None:
    # 62.5 px per 125 ms: velocity flips between +-500 px/s, i.e. 8000 px/s^2.
    _zigzag(sb, 7, amplitude)
    assert len(thrashed_cursor(sb.events)) == found


@pytest.mark.parametrize(("window", "found"), [(499, 0), (500, 1), (501, 1)])
def test_thrash_window(sb: SessionBuilder, window: int, found: int) -> None:
    _zigzag(sb, 7, 300)  # five reversals 125 ms apart span 500 ms
    assert len(thrashed_cursor(sb.events, Thresholds(thrash_window_ms=window))) == found


@pytest.mark.parametrize(("dt", "found"), [(250, 1), (251, 0)])
def test_thrash_ignores_samples_further_apart_than_the_max_gap(
    sb: SessionBuilder, dt: int, found: int
) -> None:
    _zigzag(sb, 7, 600, dt=dt)
    th = Thresholds(thrash_window_ms=5000)
    assert len(thrashed_cursor(sb.events, th)) == found


def test_purposeful_mouse_travel_is_not_thrashing(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    # Fast travel to a button with one overshoot and correction, then a pause and back.
    for x, y in [(100, 100), (400, 180), (700, 260), (760, 280), (740, 275), (735, 274)]:
        sb.move(50, x, y)
    for x, y in [(600, 240), (300, 150), (120, 110)]:
        sb.move(1500, x, y)
    assert thrashed_cursor(sb.events) == []


def _scrolls(sb: SessionBuilder, ys: list[float], dt: int = 1000) -> None:
    sb.pageview("https://shop.test/faq")
    for y in ys:
        sb.scroll(dt, y)


@pytest.mark.parametrize(
    ("ys", "found"),
    [
        ([0, 200, 0, 200, 0], 0),  # three reversals
        ([0, 200, 0, 200, 0, 200], 1),  # four
        ([0, 200, 0, 200, 0, 200, 0], 1),  # five
        ([0, 199, 0, 199, 0, 199, 0], 0),  # legs one pixel short
    ],
)
def test_excessive_scroll_reversals(sb: SessionBuilder, ys: list[float], found: int) -> None:
    _scrolls(sb, ys)
    signals = excessive_scroll(sb.events)
    assert len(signals) == found
    if found:
        assert signals[0].url == "https://shop.test/faq"


@pytest.mark.parametrize(("window", "found"), [(2999, 0), (3000, 1)])
def test_excessive_scroll_window(sb: SessionBuilder, window: int, found: int) -> None:
    _scrolls(sb, [0, 200, 0, 200, 0, 200])  # four reversals span 3 s
    assert len(excessive_scroll(sb.events, Thresholds(scroll_window_ms=window))) == found


def test_reading_down_a_page_is_not_excessive_scroll(sb: SessionBuilder) -> None:
    _scrolls(sb, [0, 300, 600, 500, 900, 1200, 1500, 1400, 1800, 2400])
    assert excessive_scroll(sb.events) == []


@pytest.mark.parametrize(("reversals", "found"), [(4, 0), (5, 1)])
def test_excessive_scroll_must_exceed_the_page_norm(
    sb: SessionBuilder, reversals: int, found: int
) -> None:
    ys = [0] + [200 if i % 2 == 0 else 0 for i in range(reversals + 1)]
    _scrolls(sb, ys)
    norms = {"https://shop.test/faq": 2.0}  # factor 2: needs more than 4
    assert len(excessive_scroll(sb.events, scroll_norms=norms)) == found


def test_scroll_norms_take_a_quantile_per_url() -> None:
    sessions = []
    for reversals in (0, 0, 2, 4):
        b = SessionBuilder()
        _scrolls(b, [0] + [200 if i % 2 == 0 else 0 for i in range(reversals + 1)])
        sessions.append(b.events)
    norms = scroll_norms(sessions, quantile=0.5)
    assert norms == {"https://shop.test/faq": pytest.approx(1.0)}


@pytest.mark.parametrize(("gap", "found"), [(9999, 1), (10_000, 1), (10_001, 0)])
def test_device_rotation_two_changes_within_ten_seconds(
    sb: SessionBuilder, gap: int, found: int
) -> None:
    sb.pageview("https://shop.test/")
    sb.add("orientation", 500, state="portrait")
    sb.add("orientation", gap, state="landscape")
    assert len(device_rotation(sb.events)) == found


def test_a_single_rotation_is_normal(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    sb.add("orientation", 500, state="landscape")
    assert device_rotation(sb.events) == []
