"""Active time, scroll depth and pages per session against hand-computed values."""

from __future__ import annotations

import pytest

from cxloop.insight.digital.engagement import engagement

from .conftest import SessionBuilder


def test_each_interaction_keeps_the_page_active_for_five_seconds(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    sb.move(1000, 10, 10)
    sb.click(2000)  # 2 s after the move: the move's 5 s window is cut short
    sb.add("pagehide", 17_000)
    session, [page] = engagement(sb.events)
    assert page.active_ms == 2000 + 5000
    assert page.dwell_ms == 20_000
    assert session.active_ms == 7000


def test_hidden_page_is_not_active(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    sb.move(1000, 10, 10)
    sb.click(2000)
    sb.add("visibility", 2000, state="hidden")
    sb.add("visibility", 60_000, state="visible")
    sb.add("pagehide", 1000)
    _, [page] = engagement(sb.events)
    assert page.active_ms == 2000 + 2000


def test_active_time_stops_at_the_page_end(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    sb.click(1000)
    sb.pageview("https://shop.test/b", 1500, nav="push")  # SPA route change, no pagehide
    sb.scroll(1000, 300)
    sb.add("pagehide", 10_000)
    session, pages = engagement(sb.events)
    assert [p.active_ms for p in pages] == [1500, 5000]
    assert session.pages == 2
    assert session.duration_ms == 13_500


def test_scroll_depth_is_the_furthest_the_viewport_reached(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/", vh=800, dh=3200)
    sb.scroll(1000, 800)
    sb.scroll(1000, 1600)
    sb.scroll(1000, 400)
    sb.pageview("https://shop.test/b", 1000, vh=800, dh=4000)
    session, pages = engagement(sb.events)
    assert [p.max_scroll_depth for p in pages] == pytest.approx([0.75, 0.2])
    assert session.max_scroll_depth == pytest.approx(0.75)
    assert session.mean_scroll_depth == pytest.approx(0.475)


def test_short_page_is_fully_seen_without_scrolling(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/", vh=800, dh=600)
    _, [page] = engagement(sb.events)
    assert page.max_scroll_depth == 1.0
