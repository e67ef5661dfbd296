"""score_session end to end, and the calm-session guarantee over many synthetic sessions."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cxloop.insight.digital import SIGNAL_TYPES, Thresholds, score_session
from cxloop.insight.digital.synthetic import synthetic_session

from .conftest import SessionBuilder


def test_calm_sessions_produce_no_signal() -> None:
    rng = np.random.default_rng(20261123)
    for _ in range(200):
        result = score_session(synthetic_session(rng))
        assert result.signals == []
        assert result.dxs >= 8.5
        assert result.pillars["frustration"] == 10.0


@pytest.mark.parametrize("signal_type", SIGNAL_TYPES)
def test_each_acted_out_frustration_is_found_alone(signal_type: str) -> None:
    rng = np.random.default_rng(7)
    calm = score_session(synthetic_session(rng, pages=4))
    rng = np.random.default_rng(7)
    result = score_session(synthetic_session(rng, pages=4, frustration=[signal_type]))
    assert {s.type for s in result.signals} == {signal_type}
    assert result.dxs < calm.dxs


def test_order_and_resent_duplicates_do_not_change_the_score() -> None:
    events = synthetic_session(np.random.default_rng(3), frustration=["rage_click", "quick_back"])
    shuffled = events + events[:40]
    random.Random(1).shuffle(shuffled)
    assert score_session(shuffled) == score_session(events)


def test_page_scores_and_hot_spots(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/cart")
    for _ in range(3):
        sb.click(200, selector="button#coupon")
    sb.click(3000, selector="div.banner")
    sb.move(3000, 5, 5)
    sb.add("pagehide", 1000)
    sb.pageview("https://shop.test/", 200)
    sb.click(2000, selector="a.home")
    sb.add("mutation", 100)
    sb.add("pagehide", 5000)

    result = score_session(sb.events)

    assert [s.type for s in result.signals] == ["rage_click", "dead_click"]
    cart, home = result.page_scores
    assert (cart.url, home.url) == ("https://shop.test/cart", "https://shop.test/")
    assert [(h.selector, h.count) for h in cart.hot_spots] == [
        ("button#coupon", 1),
        ("div.banner", 1),
    ]
    assert cart.signals == {"rage_click": 1, "dead_click": 1}
    assert home.hot_spots == [] and home.signals == {}
    assert home.pillars["frustration"] == 10.0
    assert cart.dxs < home.dxs
    assert result.engagement.pages == 2 and len(result.pages) == 2


def test_thresholds_are_honoured_end_to_end(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    for _ in range(3):
        sb.click(200)
    sb.add("mutation", 50)
    assert [s.type for s in score_session(sb.events).signals] == ["rage_click"]
    assert score_session(sb.events, Thresholds(rage_min_clicks=4)).signals == []


def test_scoring_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        score_session([])
