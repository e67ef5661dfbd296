"""Synthetic tracker sessions for the demo data set, tests and benchmarks.

A calm session reads, scrolls, clicks links that respond and fills a form it submits; it
must never trip a detector. `frustration` adds one behaviour per requested signal type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cxloop.insight.digital.events import Event

_BASE_URL = "https://shop.example"
_FORM_SIGNALS = frozenset({"form_abandonment", "field_hesitation"})
_PATHS = ("/", "/shoes", "/shoes/trail-runner", "/bags", "/help/returns", "/cart", "/checkout")


@dataclass(slots=True)
class _Writer:
    rng: np.random.Generator
    now: int
    url: str = ""
    seq: int = 0
    x: float = 400.0
    y: float = 300.0
    scroll_y: float = 0.0
    dh: int = 3200
    events: list[Event] = field(default_factory=list)

    def emit(self, type_: str, dt: float | np.integer = 0.0, **kw: object) -> None:
        self.now += int(dt)
        self.events.append(Event(type_, self.now, self.seq, self.url, **kw))  # type: ignore[arg-type]
        self.seq += 1

    def pageview(self, path: str, nav: str = "load") -> None:
        self.url = _BASE_URL + path
        self.scroll_y = 0.0
        self.dh = int(self.rng.integers(1200, 6000))
        self.emit("pageview", 0, nav=nav, vw=1280, vh=800, dh=self.dh)

    def glide(self, tx: float, ty: float) -> None:
        """Move the pointer smoothly to (tx, ty), sampled at 20 Hz like the tracker."""
        steps = int(self.rng.integers(4, 14))
        sx, sy = self.x, self.y
        for i in range(1, steps + 1):
            ease = 0.5 - 0.5 * np.cos(np.pi * i / steps)
            self.x, self.y = sx + (tx - sx) * ease, sy + (ty - sy) * ease
            self.emit("move", 50, x=round(self.x), y=round(self.y))

    def read(self) -> None:
        """Read for a while: glide the pointer around and scroll down in steps."""
        for _ in range(int(self.rng.integers(2, 6))):
            self.glide(float(self.rng.uniform(50, 1200)), float(self.rng.uniform(50, 750)))
            self.now += int(self.rng.integers(400, 3000))
            if self.scroll_y + 800 < self.dh:
                step = float(self.rng.uniform(150, 500))
                for _ in range(int(self.rng.integers(1, 4))):
                    self.scroll_y = min(self.scroll_y + step / 2, self.dh - 800)
                    self.emit("scroll", 250, y=round(self.scroll_y), vh=800, dh=self.dh)
            self.now += int(self.rng.integers(500, 4000))

    def click(self, selector: str, kind: str = "clickable", respond: bool = True) -> None:
        self.glide(float(self.rng.uniform(100, 1100)), float(self.rng.uniform(100, 700)))
        self.emit(
            "click",
            120,
            x=round(self.x),
            y=round(self.y + self.scroll_y),
            selector=selector,
            kind=kind,
            name="button",
        )
        if respond:
            self.emit("mutation", self.rng.integers(20, 400))

    def fill_form(self, submit: bool, hesitate: bool = False) -> None:
        form = "form#checkout"
        for i, name in enumerate(("email", "name", "street", "zip")):
            sel = f"input#{name}"
            self.click(sel, kind="input", respond=False)
            self.emit("field_focus", 5, selector=sel, form=form, kind="text")
            wait = 6000 if hesitate and i == 2 else self.rng.integers(200, 1500)
            self.emit("field_input", wait, selector=sel, form=form, kind="text")
            for _ in range(int(self.rng.integers(1, 4))):
                self.emit("field_input", 1000, selector=sel, form=form, kind="text")
            self.emit(
                "field_blur", self.rng.integers(200, 900), selector=sel, form=form, kind="text"
            )
        if submit:
            self.emit("submit", 800, selector=form, form=form)

    def leave(self) -> None:
        self.emit("pagehide", self.rng.integers(50, 300))
        self.now += int(self.rng.integers(100, 600))


def synthetic_session(
    rng: np.random.Generator,
    *,
    pages: int | None = None,
    frustration: Iterable[str] = (),
    start_ms: int = 1_700_000_000_000,
) -> list[Event]:
    """One plausible session; `frustration` names signal types to act out once each."""
    w = _Writer(rng=rng, now=start_ms)
    wanted = set(frustration)
    n_pages = pages or int(rng.integers(2, 7))
    for i in range(n_pages):
        path = _PATHS[i % len(_PATHS)]
        w.pageview(path, nav="load")
        w.read()
        if i == 0:
            _act_out(w, wanted)
        if i == n_pages - 1 and (n_pages >= 3 or wanted & _FORM_SIGNALS):
            w.fill_form(
                submit="form_abandonment" not in wanted, hesitate="field_hesitation" in wanted
            )
        w.click(f"a.nav-{i}")
        w.leave()
    return w.events


def _act_out(w: _Writer, wanted: set[str]) -> None:
    if "rage_click" in wanted:
        w.click("button#apply-coupon", respond=False)
        for _ in range(3):
            w.emit(
                "click",
                180,
                x=round(w.x),
                y=round(w.y + w.scroll_y),
                selector="button#apply-coupon",
                kind="clickable",
                name="button",
            )
        w.now += 2000
    if "dead_click" in wanted:
        w.click("div.promo-banner", respond=False)
        w.now += 2500
    if "error_click" in wanted:
        w.click("button#pay", respond=False)
        w.emit("error", 30, name="TypeError")
        w.now += 2000
    if "thrashed_cursor" in wanted:
        for k in range(10):
            w.emit("move", 50, x=300 + (250 if k % 2 else 0), y=400)
        w.now += 1000
    if "excessive_scroll" in wanted:
        for k in range(8):
            w.emit("scroll", 400, y=600 if k % 2 else 0, vh=800, dh=w.dh)
        w.now += 1000
    if "device_rotation" in wanted:
        w.emit("orientation", 500, state="portrait", vw=800, vh=1280)
        w.emit("orientation", 3000, state="landscape", vw=1280, vh=800)
    if "quick_back" in wanted:
        w.click("a.related", respond=False)
        here = w.url[len(_BASE_URL) :]
        w.leave()
        w.pageview("/shoes/sale")
        w.emit("pagehide", 1500)
        w.pageview(here, nav="back_forward")


def to_wire(e: Event) -> dict[str, Any]:
    """A detector Event back in the tracker's wire format (the generator speaks Events)."""
    d: dict[str, Any] = {"type": e.type, "ts": e.ts, "seq": e.seq, "url": e.url}
    t = e.type
    if t == "pageview":
        d |= {"nav": e.nav or "load", "ref": "", "vw": e.vw, "vh": e.vh, "dh": e.dh}
    elif t == "click":
        d |= {"x": e.x, "y": e.y, "sel": e.selector, "tag": e.name, "kind": e.kind or "other"}
    elif t in ("move", "scroll"):
        d |= {"x": e.x, "y": e.y} if t == "move" else {"y": e.y, "vh": e.vh, "dh": e.dh}
    elif t in ("resize", "orientation"):
        d |= {"w": e.vw, "h": e.vh} | ({"o": e.state} if t == "orientation" else {})
    elif t in ("visibility", "focus"):
        d |= {"state": e.state}
    elif t == "error":
        d |= {"name": e.name}
    elif t.startswith("field_"):
        d |= {"sel": e.selector, "form": e.form, "kind": e.kind}
    elif t == "submit":
        d |= {"form": e.form or e.selector}
    return d
