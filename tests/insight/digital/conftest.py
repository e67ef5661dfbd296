"""A tiny builder for tracker sessions: events advance a clock, so tests read as timelines."""

from __future__ import annotations

from typing import Any

import pytest

from cxloop.insight.digital.events import Event

T0 = 1_700_000_000_000


class SessionBuilder:
    def __init__(self, url: str = "https://shop.test/") -> None:
        self.url = url
        self.now = T0
        self.seq = 0
        self.events: list[Event] = []

    def add(self, type_: str, dt: int = 0, **kw: Any) -> Event:
        self.now += dt
        e = Event(type_, self.now, self.seq, kw.pop("url", self.url), **kw)
        self.seq += 1
        self.events.append(e)
        return e

    def pageview(self, url: str, dt: int = 0, **kw: Any) -> Event:
        self.url = url
        kw = {"nav": "load", "vw": 1280, "vh": 800, "dh": 3200, **kw}
        return self.add("pageview", dt, **kw)

    def click(self, dt: int = 0, x: float = 100, y: float = 100, **kw: Any) -> Event:
        kw = {"selector": "button#buy", "kind": "clickable", "name": "button", **kw}
        return self.add("click", dt, x=x, y=y, **kw)

    def move(self, dt: int, x: float, y: float) -> Event:
        return self.add("move", dt, x=x, y=y)

    def scroll(self, dt: int, y: float, **kw: Any) -> Event:
        return self.add("scroll", dt, y=y, vh=kw.get("vh", 800), dh=kw.get("dh", 3200))

    def field(self, type_: str, dt: int, sel: str, form: str = "form#signup") -> Event:
        return self.add(type_, dt, selector=sel, form=form, kind="text")

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
def sb() -> SessionBuilder:
    return SessionBuilder()
