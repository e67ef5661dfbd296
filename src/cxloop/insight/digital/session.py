"""One pass over a session's events: order them, split them into pages, bucket them by type.

Detectors and engagement measures share this index so scoring walks the events once. The
index is columnar (NumPy) because scoring must keep up with thousands of sessions a second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Any

import numpy as np

from cxloop.insight.digital.events import EVENT_TYPES, Event, StoredEvents

_TYPES: tuple[str, ...] = tuple(sorted(EVENT_TYPES))
_CODE: dict[str, int] = {t: i for i, t in enumerate(_TYPES)}
_PAGEVIEW, _PAGEHIDE = _CODE["pageview"], _CODE["pagehide"]


@dataclass(frozen=True, slots=True)
class Page:
    """One page view: from its pageview (or the first event) to the next one or a pagehide."""

    index: int
    url: str
    start: int
    end: int
    first: int  # position of the page's first event in SessionIndex.events
    last: int  # position of its last event (inclusive)


@dataclass(frozen=True, slots=True)
class SessionIndex:
    events: Sequence[Event]
    pages: list[Page]
    page_of: list[int]  # page index of each event
    page_arr: np.ndarray  # the same as an int64 array
    ts: np.ndarray  # client time of each event, int64
    codes: np.ndarray  # event type code of each event (see type_code)
    by_type: dict[str, list[int]]  # positions of each type, in order
    raw: list[dict[str, Any]] | None = None  # the stored wire dicts behind events, if any

    def of(self, type_: str) -> list[int]:
        return self.by_type.get(type_, [])

    def column(self, name: str, positions: Sequence[int]) -> list[Any]:
        """One field of the events at ``positions`` that every one of them carries under
        the same name on the wire and in Event (x, y of moves; y, vh, dh of scrolls; vh,
        dh of page views), read straight from the stored dicts when there are some."""
        raw = self.raw
        if raw is not None:
            return list(map(itemgetter(name), map(raw.__getitem__, positions)))
        return list(map(attrgetter(name), map(self.events.__getitem__, positions)))


def type_code(type_: str) -> int:
    """The integer SessionIndex.codes uses for an event type."""
    return _CODE[type_]


def index_session(events: Sequence[Event]) -> SessionIndex:
    """Order (client time, then sequence number), drop resent duplicates, and index."""
    evs = list(events)
    ts = np.array([e.ts for e in evs], dtype=np.int64)
    order = _order(ts, lambda: [e.seq for e in evs])
    if order is not None:
        evs = [evs[i] for i in order]
        ts = ts[order]
    codes = np.array([_CODE[e.type] for e in evs], dtype=np.int64)
    return _index(evs, ts, codes, None)


def index_stored(items: list[dict[str, Any]]) -> SessionIndex:
    """`index_session` over stored wire dicts (validated when they arrived), which stay
    dicts: events are wrapped only when a detector reads one (see StoredEvents)."""
    ts = np.array([d["ts"] for d in items], dtype=np.int64)
    order = _order(ts, lambda: [d["seq"] for d in items])
    if order is not None:
        items = [items[i] for i in order]
        ts = ts[order]
    code = _CODE
    codes = np.array([code[d["type"]] for d in items], dtype=np.int64)
    return _index(StoredEvents(items), ts, codes, items)


def _order(ts: np.ndarray, seqs: Callable[[], list[int]]) -> list[int] | None:
    """Positions in session order without resent duplicates, or None if already so."""
    if ts.size < 2 or bool(np.all(ts[1:] > ts[:-1])):
        return None
    seq = np.array(seqs(), dtype=np.int64)
    dt, ds = np.diff(ts), np.diff(seq)
    if bool(np.all((dt > 0) | ((dt == 0) & (ds > 0)))):
        return None
    order = np.lexsort((seq, ts))
    ts, seq = ts[order], seq[order]
    # A resend repeats (ts, seq) exactly; two real events never share both.
    keep = np.ones(ts.size, dtype=bool)
    keep[1:] = (np.diff(ts) != 0) | (np.diff(seq) != 0)
    return list(order[keep].tolist())


def _index(
    evs: Sequence[Event], ts: np.ndarray, codes: np.ndarray, raw: list[dict[str, Any]] | None
) -> SessionIndex:
    by_type = _bucket(codes)
    n = len(evs)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return SessionIndex(evs, [], [], empty, ts, codes, by_type, raw)

    starts = by_type.get("pageview", [])
    if not starts or starts[0] != 0:
        starts = [0, *starts]  # events before the first pageview still form a page
    start_arr = np.array(starts, dtype=np.int64)
    page_arr = np.searchsorted(start_arr, np.arange(n), side="right") - 1
    lasts = [*(s - 1 for s in starts[1:]), n - 1]
    hide_end = _first_pagehide_ts(by_type.get("pagehide", []), page_arr, ts, len(starts))
    urls = _urls(evs, raw, starts)
    pages = []
    for i, (first, last) in enumerate(zip(starts, lasts, strict=True)):
        end = hide_end[i]
        if end < 0:
            # Without a pagehide (SPA route change) the stay runs to the next page view.
            end = int(ts[starts[i + 1]]) if i + 1 < len(starts) else int(ts[last])
        pages.append(Page(i, urls[i], int(ts[first]), end, first, last))
    return SessionIndex(evs, pages, page_arr.tolist(), page_arr, ts, codes, by_type, raw)


def _urls(evs: Sequence[Event], raw: list[dict[str, Any]] | None, at: list[int]) -> list[str]:
    if raw is not None:
        return [raw[p]["url"] for p in at]
    return [evs[p].url for p in at]


def _bucket(codes: np.ndarray) -> dict[str, list[int]]:
    if codes.size == 0:
        return {}
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(_TYPES))
    out: dict[str, list[int]] = {}
    at = 0
    for code in np.flatnonzero(counts).tolist():
        c = int(counts[code])
        out[_TYPES[code]] = order[at : at + c].tolist()
        at += c
    return out


def _first_pagehide_ts(
    hides: list[int], page_arr: np.ndarray, ts: np.ndarray, pages: int
) -> list[int]:
    """Per page, the time of its first pagehide, or -1; later events (a page restored from
    the back/forward cache, stragglers) do not extend the stay."""
    out = [-1] * pages
    for pos in hides:
        p = int(page_arr[pos])
        if out[p] < 0:
            out[p] = int(ts[pos])
    return out
