"""DXS pillars and score against hand-computed values."""

from __future__ import annotations

import math

import pytest

from cxloop.insight.digital.dxs import (
    DxsWeights,
    engagement_pillar,
    hot_spots,
    penalty_pillar,
    score,
)
from cxloop.insight.digital.signal import Signal


def _sig(type_: str, selector: str = "") -> Signal:
    return Signal(type_, 0, "https://shop.test/", selector)


def _score(signals: list[Signal], **kw: object) -> object:
    args: dict = {
        "views": 1,
        "js_errors": 0,
        "active_ms": 30_000,
        "mean_depth": 1.0,
        "used_forms": False,
        "engaged_active_ms": 30_000,
        **kw,
    }
    return score(signals, **args)


def test_penalty_pillar_falls_exponentially_per_view() -> None:
    assert penalty_pillar(0.0, 3) == 10.0
    assert penalty_pillar(1.0, 1) == pytest.approx(10 / math.e)
    assert penalty_pillar(2.0, 2) == pytest.approx(10 / math.e)


def test_engagement_pillar_halves_time_and_depth() -> None:
    assert engagement_pillar(15_000, 1, 0.5, 30_000) == pytest.approx(5.0)
    assert engagement_pillar(90_000, 1, 1.0, 30_000) == pytest.approx(10.0)
    assert engagement_pillar(0, 2, 0.0, 30_000) == 0.0


def test_clean_fully_engaged_session_scores_ten() -> None:
    result = _score([])
    assert result.score == 10.0
    assert set(result.pillars) == {"frustration", "engagement", "navigation", "technical"}


def test_one_rage_click_on_one_page_by_hand() -> None:
    result = _score([_sig("rage_click", "button#buy")])
    frustration = 10 / math.e
    expected = (0.35 * frustration + 0.15 * 10 + 0.15 * 10 + 0.20 * 10) / 0.85
    assert result.pillars["frustration"] == pytest.approx(frustration, abs=0.01)
    assert result.score == pytest.approx(expected, abs=0.01)


def test_form_pillar_counts_only_where_a_form_was_used() -> None:
    result = _score([_sig("form_abandonment", "form#signup")], used_forms=True)
    assert result.pillars["form"] == pytest.approx(10 / math.e, abs=0.01)
    expected = (0.35 * 10 + 0.15 * 10 + 0.15 * 10 + 0.15 * 10 / math.e + 0.20 * 10) / 1.0
    assert result.score == pytest.approx(expected, abs=0.01)


def test_js_errors_already_counted_as_error_clicks_are_not_counted_twice() -> None:
    once = _score([_sig("error_click", "button#pay")], js_errors=1)
    assert once.pillars["technical"] == pytest.approx(10 / math.e, abs=0.01)
    extra = _score([_sig("error_click", "button#pay")], js_errors=3)
    assert extra.pillars["technical"] == pytest.approx(10 * math.exp(-2.0), abs=0.01)


def test_weights_are_configurable() -> None:
    only_frustration = DxsWeights(engagement=0, navigation=0, form=0, technical=0)
    result = _score([_sig("dead_click")], weights=only_frustration)
    assert result.score == pytest.approx(10 * math.exp(-0.5), abs=0.01)


def test_hot_spots_group_by_selector_most_frequent_first() -> None:
    spots = hot_spots(
        [
            _sig("dead_click", "button.apply"),
            _sig("rage_click", "button#buy"),
            _sig("dead_click", "button#buy"),
            _sig("error_click", "button#buy"),
            _sig("thrashed_cursor", ""),
        ]
    )
    assert [(h.selector, h.count) for h in spots] == [("button#buy", 3), ("button.apply", 1)]
    assert spots[0].types == {"rage_click": 1, "dead_click": 1, "error_click": 1}
