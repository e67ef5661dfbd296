"""Frustration detectors: pure functions over one session's events returning Signals.

Each public detector takes the session's events (any order; they are ordered and deduped)
and a Thresholds. `detect` runs them all over one shared index, which is what scoring uses.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cxloop.insight.digital.events import EVENT_TYPES, Event
from cxloop.insight.digital.page_signals import _field_hesitation, _form_abandonment, _quick_back
from cxloop.insight.digital.session import SessionIndex, index_session, type_code
from cxloop.insight.digital.signal import Signal
from cxloop.insight.digital.thresholds import DEFAULT_THRESHOLDS, Thresholds

# What counts as the page answering a click: DOM change, navigation, scroll, or the
# focus/visibility change of a link that opened a new tab or a native dialog.
_RESPONSES = ("mutation", "pageview", "pagehide", "scroll", "visibility", "focus")
_IS_RESPONSE = np.zeros(len(EVENT_TYPES), dtype=bool)
_IS_RESPONSE[[type_code(t) for t in _RESPONSES]] = True


@dataclass(frozen=True, slots=True)
class _ClickOutcome:
    rage: list[Signal] = field(default_factory=list)
    dead: list[Signal] = field(default_factory=list)
    error: list[Signal] = field(default_factory=list)


def _click_signals(ix: SessionIndex, th: Thresholds) -> _ClickOutcome:
    evs = ix.events
    clicks = ix.of("click")
    out = _ClickOutcome()
    if not clicks:
        return out
    ce = [evs[p] for p in clicks]
    in_rage: set[int] = set()
    i = 0
    radius2 = th.rage_radius_px * th.rage_radius_px
    while i < len(clicks):
        first = ce[i]
        j = i + 1
        while j < len(clicks):
            cur, prev = ce[j], ce[j - 1]
            dx, dy = cur.x - first.x, cur.y - first.y
            if (
                cur.ts - prev.ts >= th.rage_max_gap_ms
                or dx * dx + dy * dy > radius2
                or cur.url != first.url
            ):
                break
            j += 1
        if j - i >= th.rage_min_clicks:
            span = ce[j - 1].ts - first.ts
            out.rage.append(
                Signal("rage_click", first.ts, first.url, first.selector, _d(clicks=j - i, ms=span))
            )
            in_rage.update(clicks[i:j])
            i = j
        else:
            i += 1

    responses = np.flatnonzero(_IS_RESPONSE[ix.codes]).tolist()
    errors = ix.of("error")
    last_ts = int(ix.ts[-1])
    for pos, c in zip(clicks, ce, strict=True):
        k = bisect_right(errors, pos)
        if k < len(errors) and evs[errors[k]].ts - c.ts <= th.error_click_window_ms:
            err = evs[errors[k]]
            waited = err.ts - c.ts
            out.error.append(
                Signal("error_click", c.ts, c.url, c.selector, _d(error=err.name, ms=waited))
            )
            continue
        # A click inside a rage burst is reported once, as the rage click.
        if pos in in_rage or c.kind == "input":
            continue
        if th.dead_click_only_clickable and c.kind != "clickable":
            continue
        # Only judge clicks whose whole window was observed (the stream did not end in it).
        if last_ts - c.ts <= th.dead_click_window_ms:
            continue
        k = bisect_right(responses, pos)
        if k < len(responses) and evs[responses[k]].ts - c.ts <= th.dead_click_window_ms:
            continue
        out.dead.append(Signal("dead_click", c.ts, c.url, c.selector, _d(tag=c.name)))
    return out


def _thrashed_cursor(ix: SessionIndex, th: Thresholds) -> list[Signal]:
    moves = ix.of("move")
    if len(moves) < th.thrash_min_reversals + 2:
        return []
    evs = ix.events
    t = ix.ts[moves].astype(np.float64)
    # Positions as complex numbers: one array op does the work of two on x and y.
    z = np.array(ix.column("x", moves), dtype=np.float64) + 1j * np.array(
        ix.column("y", moves), dtype=np.float64
    )
    dt = t[1:] - t[:-1]
    ok = (dt > 0) & (dt <= th.thrash_max_gap_ms)
    safe = np.where(ok, dt, 1.0) / 1000.0
    v = (z[1:] - z[:-1]) / safe
    speed2 = v.real * v.real + v.imag * v.imag
    fast = ok & (speed2 >= th.thrash_min_speed_px_s**2)
    # A reversal at sample i+1: the heading turns by more than 90 degrees, both legs are
    # fast, and the change of velocity over the legs' mean duration is a hard acceleration.
    turn = fast[:-1] & fast[1:] & ((v[:-1] * v[1:].conjugate()).real < 0)
    if np.count_nonzero(turn) < th.thrash_min_reversals:
        return []
    mean_dt = (safe[:-1] + safe[1:]) / 2.0
    dv = np.abs(v[1:] - v[:-1]) / mean_dt
    where = np.flatnonzero(turn & (dv >= th.thrash_min_accel_px_s2)) + 1
    times = t[where].tolist()
    signals: list[Signal] = []
    for start, end, n in _bursts(times, th.thrash_min_reversals, th.thrash_window_ms):
        e = evs[moves[int(where[start])]]
        signals.append(
            Signal("thrashed_cursor", e.ts, e.url, "", _d(reversals=n, ms=int(end - e.ts)))
        )
    return signals


def _bursts(times: Sequence[float], min_count: int, window: float) -> list[tuple[int, float, int]]:
    """Non-overlapping runs of >= min_count times spanning <= window: (first, last time, n)."""
    out: list[tuple[int, float, int]] = []
    i, n = 0, len(times)
    while i < n and min_count > 0:
        j = bisect_right(times, times[i] + window, lo=i)
        if j - i >= min_count:
            out.append((i, times[j - 1], j - i))
            i = j
        else:
            i += 1
    return out


def _scroll_reversals(ys: Sequence[float], ts: Sequence[int], min_leg: float) -> list[int]:
    """Times at which scrolling turned around after legs of at least min_leg pixels."""
    out: list[int] = []
    if not ys:
        return out
    direction = 0
    low = high = extreme = ys[0]
    for y, t in zip(ys, ts, strict=True):
        if direction == 0:
            # Small wiggles before the first real leg set no direction.
            if y < low:
                low = y
            elif y > high:
                high = y
            if y - low >= min_leg:
                direction, extreme = 1, y
            elif high - y >= min_leg:
                direction, extreme = -1, y
        elif direction > 0:
            if y > extreme:
                extreme = y
            elif extreme - y >= min_leg:
                out.append(t)
                direction, extreme = -1, y
        elif y < extreme:
            extreme = y
        elif y - extreme >= min_leg:
            out.append(t)
            direction, extreme = 1, y
    return out


def _excessive_scroll(
    ix: SessionIndex, th: Thresholds, norms: Mapping[str, float] | None
) -> list[Signal]:
    signals: list[Signal] = []
    for page, times in _page_scroll_reversals(ix, th).items():
        url = ix.pages[page].url
        need = th.scroll_min_reversals
        norm = norms.get(url) if norms else None
        if norm is not None:
            # "Beyond what the page normally sees": strictly more than factor x the norm.
            need = max(need, math.floor(norm * th.scroll_norm_factor) + 1)
        for start, _end, n in _bursts(times, need, th.scroll_window_ms):
            at = int(times[start])
            signals.append(Signal("excessive_scroll", at, url, "", _d(reversals=n)))
    return signals


def _page_scroll_reversals(ix: SessionIndex, th: Thresholds) -> dict[int, list[int]]:
    per_page: dict[int, tuple[list[float], list[int]]] = {}
    pos = ix.of("scroll")
    page_of = ix.page_of
    for p, y, t in zip(pos, ix.column("y", pos), ix.ts[pos].tolist(), strict=True):
        ys, ts = per_page.setdefault(page_of[p], ([], []))
        ys.append(y)
        ts.append(t)
    return {p: _scroll_reversals(ys, ts, th.scroll_min_leg_px) for p, (ys, ts) in per_page.items()}


def _device_rotation(ix: SessionIndex, th: Thresholds) -> list[Signal]:
    pos = ix.of("orientation")
    times = ix.ts[pos].tolist()
    out = []
    for start, end, n in _bursts(times, th.rotation_min_changes, th.rotation_window_ms):
        e = ix.events[pos[start]]
        out.append(Signal("device_rotation", e.ts, e.url, "", _d(changes=n, ms=int(end - e.ts))))
    return out


def _d(**kw: float | int | str) -> dict[str, float | int | str]:
    return kw


def detect_indexed(
    ix: SessionIndex,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    scroll_norms: Mapping[str, float] | None = None,
) -> list[Signal]:
    """All signals of an indexed session, in time order."""
    clicks = _click_signals(ix, thresholds)
    signals = [
        *clicks.rage,
        *clicks.dead,
        *clicks.error,
        *_thrashed_cursor(ix, thresholds),
        *_excessive_scroll(ix, thresholds, scroll_norms),
        *_quick_back(ix, thresholds),
        *_device_rotation(ix, thresholds),
        *_form_abandonment(ix, thresholds),
        *_field_hesitation(ix, thresholds),
    ]
    signals.sort(key=lambda s: (s.at, s.type))
    return signals


def detect(
    events: Sequence[Event],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    scroll_norms: Mapping[str, float] | None = None,
) -> list[Signal]:
    """All signals of one session's events, in time order.

    `scroll_norms` maps a URL to its usual number of scroll reversals per view (see
    `scroll_norms`); without it excessive_scroll uses the absolute threshold only.
    """
    return detect_indexed(index_session(events), thresholds, scroll_norms)


def rage_clicks(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _click_signals(index_session(events), th).rage


def dead_clicks(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _click_signals(index_session(events), th).dead


def error_clicks(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _click_signals(index_session(events), th).error


def thrashed_cursor(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _thrashed_cursor(index_session(events), th)


def excessive_scroll(
    events: Sequence[Event],
    th: Thresholds = DEFAULT_THRESHOLDS,
    scroll_norms: Mapping[str, float] | None = None,
) -> list[Signal]:
    return _excessive_scroll(index_session(events), th, scroll_norms)


def device_rotation(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _device_rotation(index_session(events), th)


def quick_back(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _quick_back(index_session(events), th)


def form_abandonment(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _form_abandonment(index_session(events), th)


def field_hesitation(events: Sequence[Event], th: Thresholds = DEFAULT_THRESHOLDS) -> list[Signal]:
    return _field_hesitation(index_session(events), th)


def scroll_norms(
    sessions: Sequence[Sequence[Event]], th: Thresholds = DEFAULT_THRESHOLDS, quantile: float = 0.9
) -> dict[str, float]:
    """Per URL, the `quantile` of the most scroll reversals one view saw within the window.

    Feed the result back into `detect`/`score_session` so excessive_scroll fires only on
    views that scroll well beyond what that page normally sees (long FAQs, comparisons).
    """
    seen: dict[str, list[int]] = {}
    for events in sessions:
        ix = index_session(events)
        reversals = _page_scroll_reversals(ix, th)
        for page in ix.pages:
            times = reversals.get(page.index, [])
            most = 0
            for i, t in enumerate(times):
                most = max(most, bisect_right(times, t + th.scroll_window_ms, lo=i) - i)
            seen.setdefault(page.url, []).append(most)
    return {url: float(np.quantile(counts, quantile)) for url, counts in seen.items()}
