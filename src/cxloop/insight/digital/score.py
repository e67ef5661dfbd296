"""score_session: one session's events in, signals, engagement and DXS out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cxloop.insight.digital.detectors import detect_indexed
from cxloop.insight.digital.dxs import DEFAULT_WEIGHTS, DxsWeights, HotSpot, hot_spots, score
from cxloop.insight.digital.engagement import (
    PageEngagement,
    SessionEngagement,
    engagement_indexed,
)
from cxloop.insight.digital.events import Event
from cxloop.insight.digital.session import Page, SessionIndex, index_session, index_stored
from cxloop.insight.digital.signal import Signal
from cxloop.insight.digital.thresholds import DEFAULT_THRESHOLDS, Thresholds


@dataclass(frozen=True, slots=True)
class PageScore:
    """Every view of one URL within the session, scored together."""

    url: str
    views: int
    dxs: float
    pillars: Mapping[str, float]
    active_ms: int
    max_scroll_depth: float
    signals: Mapping[str, int]
    hot_spots: list[HotSpot]


@dataclass(frozen=True, slots=True)
class SessionScore:
    pages: list[Page]
    signals: list[Signal]
    engagement: SessionEngagement
    page_engagement: list[PageEngagement]
    dxs: float
    pillars: Mapping[str, float]
    page_scores: list[PageScore]  # in order of first view


def score_session(
    events: Sequence[Event],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    weights: DxsWeights = DEFAULT_WEIGHTS,
    scroll_norms: Mapping[str, float] | None = None,
) -> SessionScore:
    """Score one session; events may arrive in any order and include resent duplicates.

    Score a session once it has ended (30 minutes without events): an open form still being
    filled in would otherwise count as abandoned.
    """
    return score_indexed(
        index_session(events), thresholds, weights=weights, scroll_norms=scroll_norms
    )


def score_stored(
    items: list[dict[str, Any]],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    weights: DxsWeights = DEFAULT_WEIGHTS,
    scroll_norms: Mapping[str, float] | None = None,
) -> SessionScore:
    """`score_session` over stored wire-format event dicts (validated when they arrived),
    without turning every event into an object first: the fast path of closing sessions.
    Takes the dicts over (fields are added to them)."""
    return score_indexed(
        index_stored(items), thresholds, weights=weights, scroll_norms=scroll_norms
    )


def score_indexed(
    ix: SessionIndex,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    weights: DxsWeights = DEFAULT_WEIGHTS,
    scroll_norms: Mapping[str, float] | None = None,
) -> SessionScore:
    if not ix.events:
        raise ValueError("cannot score a session without events")
    signals = detect_indexed(ix, thresholds, scroll_norms)
    session_eng, page_eng = engagement_indexed(ix, thresholds)

    by_url: dict[str, list[int]] = {}
    for p in ix.pages:
        by_url.setdefault(p.url, []).append(p.index)
    errors_by_page = _count_by_page(ix.of("error"), ix.page_of)
    inputs_by_page = _count_by_page(ix.of("field_input"), ix.page_of)

    page_scores = []
    for url, views in by_url.items():
        sigs = [s for s in signals if s.url == url]
        eng = [page_eng[i] for i in views]
        result = score(
            sigs,
            views=len(views),
            js_errors=sum(errors_by_page.get(i, 0) for i in views),
            active_ms=sum(e.active_ms for e in eng),
            mean_depth=sum(e.max_scroll_depth for e in eng) / len(eng),
            used_forms=any(inputs_by_page.get(i, 0) for i in views),
            engaged_active_ms=thresholds.engaged_active_ms,
            weights=weights,
        )
        counts: dict[str, int] = {}
        for s in sigs:
            counts[s.type] = counts.get(s.type, 0) + 1
        page_scores.append(
            PageScore(
                url=url,
                views=len(views),
                dxs=result.score,
                pillars=result.pillars,
                active_ms=sum(e.active_ms for e in eng),
                max_scroll_depth=max(e.max_scroll_depth for e in eng),
                signals=counts,
                hot_spots=hot_spots(sigs),
            )
        )

    overall = score(
        signals,
        views=len(ix.pages),
        js_errors=len(ix.of("error")),
        active_ms=session_eng.active_ms,
        mean_depth=session_eng.mean_scroll_depth,
        used_forms=bool(ix.of("field_input")),
        engaged_active_ms=thresholds.engaged_active_ms,
        weights=weights,
    )
    return SessionScore(
        pages=ix.pages,
        signals=signals,
        engagement=session_eng,
        page_engagement=page_eng,
        dxs=overall.score,
        pillars=overall.pillars,
        page_scores=page_scores,
    )


def _count_by_page(positions: list[int], page_of: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for pos in positions:
        page = page_of[pos]
        counts[page] = counts.get(page, 0) + 1
    return counts
