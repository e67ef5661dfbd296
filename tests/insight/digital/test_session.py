"""index_session: order, dedupe, page boundaries and buckets."""

from __future__ import annotations

import random

from cxloop.insight.digital.session import index_session

from .conftest import SessionBuilder


def test_pages_end_at_pagehide_or_at_the_next_view(sb: SessionBuilder) -> None:
    sb.add("move", 0, x=1, y=1)  # before any page view: still a page, named by its URL
    sb.pageview("https://shop.test/a", 1000)
    sb.click(2000)
    hide = sb.add("pagehide", 500)
    sb.add("visibility", 100, state="hidden")  # straggler after pagehide
    b = sb.pageview("https://shop.test/b", 400, nav="push")
    c = sb.pageview("https://shop.test/c", 3000, nav="push")  # SPA: no pagehide on b
    sb.scroll(700, 100)
    last = sb.click(300)

    ix = index_session(sb.events)

    assert [p.url for p in ix.pages] == [
        "https://shop.test/",
        "https://shop.test/a",
        "https://shop.test/b",
        "https://shop.test/c",
    ]
    assert [p.end for p in ix.pages[1:]] == [hide.ts, c.ts, last.ts]
    assert ix.pages[2].start == b.ts
    assert [(p.first, p.last) for p in ix.pages] == [(0, 0), (1, 4), (5, 5), (6, 8)]
    assert ix.page_of == [0, 1, 1, 1, 1, 2, 3, 3, 3]
    assert ix.of("click") == [2, 8] and ix.of("submit") == []


def test_shuffled_and_resent_events_index_like_the_original(sb: SessionBuilder) -> None:
    sb.pageview("https://shop.test/")
    for i in range(30):
        sb.move(40, i * 10, 5)
    sb.click(0)  # same millisecond as the last move: seq breaks the tie
    events = list(sb.events)
    mixed = events + events[5:12]
    random.Random(4).shuffle(mixed)
    assert index_session(mixed).events == events
