"""Digital experience score (DXS): five pillars on 0..10 and their weighted mean.

Penalty pillars: 10 * exp(-penalty / views), where penalty is the weighted count of the
pillar's signals and views the number of page views scored. Engagement: half for active
time per view (full marks at Thresholds.engaged_active_ms), half for mean scroll depth.
The form pillar only counts where someone typed into a form. See docs/digital-signals.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cxloop.insight.digital.signal import Signal

PILLARS: tuple[str, ...] = ("frustration", "engagement", "navigation", "form", "technical")

PILLAR_OF: Mapping[str, str] = {
    "rage_click": "frustration",
    "dead_click": "frustration",
    "thrashed_cursor": "frustration",
    "excessive_scroll": "frustration",
    "device_rotation": "frustration",
    "quick_back": "navigation",
    "form_abandonment": "form",
    "field_hesitation": "form",
    "error_click": "technical",
}

# Signals a visitor can point at an element for; they make a page's hot spots.
HOT_SPOT_TYPES = frozenset(
    {"rage_click", "dead_click", "error_click", "form_abandonment", "field_hesitation"}
)


def _default_penalties() -> dict[str, float]:
    return {
        "rage_click": 1.0,
        "dead_click": 0.5,
        "thrashed_cursor": 0.5,
        "excessive_scroll": 0.5,
        "device_rotation": 0.25,
        "quick_back": 1.0,
        "form_abandonment": 1.0,
        "field_hesitation": 0.25,
        "error_click": 1.0,
    }


@dataclass(frozen=True, slots=True)
class DxsWeights:
    """Pillar weights (renormalised over the pillars that apply) and signal penalties."""

    frustration: float = 0.35
    engagement: float = 0.15
    navigation: float = 0.15
    form: float = 0.15
    technical: float = 0.20
    penalties: Mapping[str, float] = field(default_factory=_default_penalties)
    js_error_penalty: float = 0.5  # each JS error not already counted as an error_click


DEFAULT_WEIGHTS = DxsWeights()


@dataclass(frozen=True, slots=True)
class HotSpot:
    selector: str
    count: int
    types: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Dxs:
    score: float
    pillars: Mapping[str, float]  # only the pillars that applied


def penalty_pillar(penalty: float, views: int) -> float:
    """10 for no penalty, falling exponentially with the penalty per page view."""
    return 10.0 * math.exp(-penalty / max(1, views))


def engagement_pillar(
    active_ms: float, views: int, mean_depth: float, engaged_active_ms: float
) -> float:
    per_view = active_ms / max(1, views)
    time_part = min(1.0, per_view / engaged_active_ms) if engaged_active_ms > 0 else 1.0
    return 10.0 * (0.5 * time_part + 0.5 * min(1.0, max(0.0, mean_depth)))


def score(
    signals: Iterable[Signal],
    *,
    views: int,
    js_errors: int,
    active_ms: float,
    mean_depth: float,
    used_forms: bool,
    engaged_active_ms: float,
    weights: DxsWeights = DEFAULT_WEIGHTS,
) -> Dxs:
    """DXS of a set of page views (a session, or every view of one URL in it)."""
    frustration = navigation = form = technical = 0.0
    error_clicks = 0
    penalties = weights.penalties
    for s in signals:
        pillar = PILLAR_OF.get(s.type)
        weight = penalties.get(s.type, 0.0)
        if pillar == "frustration":
            frustration += weight
        elif pillar == "navigation":
            navigation += weight
        elif pillar == "form":
            form += weight
        elif pillar == "technical":
            technical += weight
            error_clicks += s.type == "error_click"
    technical += weights.js_error_penalty * max(0, js_errors - error_clicks)
    pillars = {
        "frustration": penalty_pillar(frustration, views),
        "engagement": engagement_pillar(active_ms, views, mean_depth, engaged_active_ms),
        "navigation": penalty_pillar(navigation, views),
        "form": penalty_pillar(form, views),
        "technical": penalty_pillar(technical, views),
    }
    if not used_forms and form == 0.0:
        del pillars["form"]
    total = value = 0.0
    for name, pillar_score in pillars.items():
        w = getattr(weights, name)
        total += w
        value += w * pillar_score
    value = value / total if total > 0 else 10.0
    return Dxs(score=round(value, 2), pillars={n: round(v, 2) for n, v in pillars.items()})


def hot_spots(signals: Iterable[Signal]) -> list[HotSpot]:
    """Frustration by selector, most frequent first."""
    by_sel: dict[str, Counter[str]] = {}
    for s in signals:
        if s.selector and s.type in HOT_SPOT_TYPES:
            by_sel.setdefault(s.selector, Counter())[s.type] += 1
    spots = [HotSpot(sel, sum(c.values()), dict(c)) for sel, c in by_sel.items()]
    spots.sort(key=lambda h: (-h.count, h.selector))
    return spots
