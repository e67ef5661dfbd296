"""Navigation and form detectors: quick_back, form_abandonment, field_hesitation.

Private to the package; `detectors` exposes them. They read a SessionIndex so scoring
shares one pass over the events with the pointer detectors.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from cxloop.insight.digital.session import SessionIndex
from cxloop.insight.digital.signal import Signal
from cxloop.insight.digital.thresholds import Thresholds

# Moving the mouse towards the browser's back button is not engaging with the page, so
# only deliberate acts cancel a quick back.
_ENGAGING = ("click", "field_focus", "field_input", "submit")


def _any_between(positions: list[int], lo: int, hi: int) -> bool:
    """Whether a sorted position list has an entry in [lo, hi]."""
    k = bisect_left(positions, lo)
    return k < len(positions) and positions[k] <= hi


def _quick_back(ix: SessionIndex, th: Thresholds) -> list[Signal]:
    pages = ix.pages
    engaging = [ix.of(t) for t in _ENGAGING]
    out: list[Signal] = []
    for i in range(2, len(pages)):
        before, bounced, back = pages[i - 2], pages[i - 1], pages[i]
        if back.url != before.url or bounced.url == back.url:
            continue
        dwell = back.start - bounced.start
        if dwell > th.quick_back_ms:
            continue
        if any(_any_between(p, bounced.first, bounced.last) for p in engaging):
            continue
        out.append(
            Signal("quick_back", back.start, bounced.url, "", {"dwell_ms": dwell, "to": back.url})
        )
    return out


def _form_abandonment(ix: SessionIndex, th: Thresholds) -> list[Signal]:
    evs = ix.events
    # (url, form) -> (last input position, fields touched); formless fields group per page.
    touched: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for pos in ix.of("field_input"):
        e = evs[pos]
        key = (e.url, e.form)
        fields = touched[key][1] if key in touched else set()
        fields.add(e.selector)
        touched[key] = (pos, fields)
    if not touched:
        return []
    submits_by_url: dict[str, list[int]] = {}
    for pos in ix.of("submit"):
        submits_by_url.setdefault(evs[pos].url, []).append(pos)
    out: list[Signal] = []
    for (url, form), (last, fields) in touched.items():
        # Any later submit on the same page counts: frameworks rewrite form classes as the
        # user types, so the submit's selector may no longer match the one seen on input.
        subs = submits_by_url.get(url, [])
        if subs and subs[-1] > last:
            continue
        left = ix.pages[ix.page_of[last]].end
        selector = form or evs[last].selector
        out.append(
            Signal(
                "form_abandonment",
                left,
                url,
                selector,
                {"fields": len(fields), "last_field": evs[last].selector},
            )
        )
    return out


def _field_hesitation(ix: SessionIndex, th: Thresholds) -> list[Signal]:
    evs = ix.events
    away = sorted(
        [p for p in ix.of("visibility") if evs[p].state == "hidden"]
        + [p for p in ix.of("focus") if evs[p].state == "blur"]
    )
    field_pos = sorted(ix.of("field_focus") + ix.of("field_input") + ix.of("field_blur"))
    focused: dict[str, int] = {}
    out: list[Signal] = []
    for pos in field_pos:
        e = evs[pos]
        if e.type == "field_focus":
            focused[e.selector] = pos
            continue
        start = focused.pop(e.selector, None)
        if e.type != "field_input" or start is None:
            continue
        wait = e.ts - evs[start].ts
        # Time spent in another tab or window is absence, not hesitation.
        k = bisect_right(away, start)
        if wait >= th.field_hesitation_ms and not (k < len(away) and away[k] < pos):
            out.append(Signal("field_hesitation", e.ts, e.url, e.selector, {"wait_ms": wait}))
    return out
