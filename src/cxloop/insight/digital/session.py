"""One pass over a session's events: order them, split them into pages, bucket them by type.

Detectors and engagement measures share this index so scoring walks the events once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cxloop.insight.digital.events import Event, ordered


@dataclass(frozen=True, slots=True)
class Page:
    """One page view: from its pageview (or the first event) to the next one or a pagehide."""

    index: int
    url: str
    start: int
    end: int
    first: int  # position of the page's first event in SessionIndex.events
    last: int  # position of its last event (inclusive)


@dataclass(slots=True)
class SessionIndex:
    events: list[Event]
    pages: list[Page]
    page_of: list[int]  # page index of each event
    by_type: dict[str, list[int]] = field(default_factory=dict)  # positions, in order

    def of(self, type_: str) -> list[int]:
        return self.by_type.get(type_, [])


def index_session(events: Sequence[Event], *, presorted: bool = False) -> SessionIndex:
    """Order (unless `presorted`), dedupe and index a session's events."""
    evs = list(events) if presorted else ordered(events)
    by_type: dict[str, list[int]] = {}
    page_of: list[int] = []
    bounds: list[list[int]] = []  # [first, last, end_ts, hidden] per page
    urls: list[str] = []
    page = -1
    for pos, e in enumerate(evs):
        t = e.type
        if t == "pageview" or page < 0:
            page += 1
            urls.append(e.url)
            bounds.append([pos, pos, e.ts, 0])
        b = bounds[page]
        b[1] = pos
        if not b[3]:
            b[2] = e.ts
            if t == "pagehide":
                b[3] = 1  # later events (bfcache, stragglers) do not extend the stay
        page_of.append(page)
        lst = by_type.get(t)
        if lst is None:
            by_type[t] = [pos]
        else:
            lst.append(pos)
    pages: list[Page] = []
    for i, b in enumerate(bounds):
        end = b[2]
        if not b[3] and i + 1 < len(bounds):
            end = evs[bounds[i + 1][0]].ts  # without a pagehide (SPA) the stay runs to the next
        pages.append(Page(index=i, url=urls[i], start=evs[b[0]].ts, end=end, first=b[0], last=b[1]))
    return SessionIndex(events=evs, pages=pages, page_of=page_of, by_type=by_type)
