"""Engagement: active time, scroll depth and pages per session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cxloop.insight.digital.events import EVENT_TYPES, Event
from cxloop.insight.digital.session import SessionIndex, index_session, type_code
from cxloop.insight.digital.thresholds import DEFAULT_THRESHOLDS, Thresholds

# Acts that show someone is at the page. Visibility and focus changes are not: they are
# what happens when the person leaves.
INTERACTIONS = (
    "click",
    "move",
    "scroll",
    "field_focus",
    "field_input",
    "field_blur",
    "submit",
    "orientation",
)


@dataclass(frozen=True, slots=True)
class PageEngagement:
    index: int
    url: str
    start: int
    dwell_ms: int
    active_ms: int
    max_scroll_depth: float  # share of the document seen, 0..1


@dataclass(frozen=True, slots=True)
class SessionEngagement:
    pages: int
    duration_ms: int
    active_ms: int
    max_scroll_depth: float
    mean_scroll_depth: float


def engagement_indexed(
    ix: SessionIndex, th: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[SessionEngagement, list[PageEngagement]]:
    """Session and per-view engagement of an indexed session."""
    active = _active_ms(ix, th.active_window_ms)
    depth = _scroll_depths(ix)
    per_page = [
        PageEngagement(
            index=p.index,
            url=p.url,
            start=p.start,
            dwell_ms=p.end - p.start,
            active_ms=int(active[p.index]),
            max_scroll_depth=depth[p.index],
        )
        for p in ix.pages
    ]
    depths = [p.max_scroll_depth for p in per_page]
    session = SessionEngagement(
        pages=len(per_page),
        duration_ms=int(ix.ts[-1] - ix.ts[0]) if ix.ts.size else 0,
        active_ms=int(active.sum()),
        max_scroll_depth=max(depths, default=0.0),
        mean_scroll_depth=sum(depths) / len(depths) if depths else 0.0,
    )
    return session, per_page


def engagement(
    events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[SessionEngagement, list[PageEngagement]]:
    """Session and per-view engagement of one session's events."""
    return engagement_indexed(index_session(events), th)


_INTERACTIVE = np.zeros(len(EVENT_TYPES), dtype=bool)
_INTERACTIVE[[type_code(t) for t in INTERACTIONS]] = True


def _active_ms(ix: SessionIndex, window: int) -> np.ndarray:
    """Active ms per page: each interaction keeps the page active for `window` ms, until
    the next interaction, the page going hidden, or the page's end, whichever comes first."""
    n_pages = len(ix.pages)
    pos = np.flatnonzero(_INTERACTIVE[ix.codes])
    if pos.size == 0:
        return np.zeros(n_pages)
    ts = ix.ts[pos].astype(np.float64)
    page = ix.page_arr[pos]
    page_end = np.array([p.end for p in ix.pages], dtype=np.float64)
    stop = np.minimum(ts + window, page_end[page])
    nxt = np.empty_like(ts)
    nxt[:-1] = np.where(page[1:] == page[:-1], ts[1:], np.inf)
    nxt[-1] = np.inf
    stop = np.minimum(stop, nxt)
    evs = ix.events
    hidden = [p for p in ix.of("visibility") if evs[p].state == "hidden"]
    if hidden:
        hpos = np.array(hidden, dtype=np.int64)
        k = np.minimum(np.searchsorted(hpos, pos, side="right"), hpos.size - 1)
        after = hpos[k]
        same = (after > pos) & (ix.page_arr[after] == page)
        stop = np.minimum(stop, np.where(same, ix.ts[after], np.inf))
    return np.bincount(page, weights=np.maximum(stop - ts, 0.0), minlength=n_pages)


def _scroll_depths(ix: SessionIndex) -> list[float]:
    depth = [0.0] * len(ix.pages)
    page_of = ix.page_of
    views, scrolls = ix.of("pageview"), ix.of("scroll")
    # a page view is seen from the top (y 0)
    at = views + scrolls
    ys = [0.0] * len(views) + ix.column("y", scrolls)
    for pos, y, vh, dh in zip(at, ys, ix.column("vh", at), ix.column("dh", at), strict=True):
        if dh > 0:
            seen = min(1.0, max(0.0, (y + vh) / dh))
            page = page_of[pos]
            if seen > depth[page]:
                depth[page] = seen
    return depth
