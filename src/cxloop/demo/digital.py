"""Demo digital sessions for the online store: a broken coupon button on checkout (rage and
dead clicks), phones rotated on product pages, quick backs and abandoned checkouts.

The demo shop itself is ``/static/demo-shop/index.html``, instrumented with the same key.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from cxloop.demo import DemoContext
from cxloop.signals.digital_collect import check_batch
from cxloop.signals.digital_ingest import Arrival, store_arrivals
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.signals.digital_sites import SiteCreate, create_site, site_info
from cxloop.store.models.customers import CustomerIdentity

ORDER = 40
SITE_KEY = "cxs_demo_sakura_shop"
SESSIONS = 320
BASE = "https://shop.sakura-living.example"


class _Visit:
    def __init__(self, rng: Any, start_ms: int, mobile: bool) -> None:
        self.rng = rng
        self.now = start_ms
        self.seq = 0
        self.url = BASE + "/"
        self.mobile = mobile
        self.vw, self.vh = (390, 844) if mobile else (1440, 900)
        self.px, self.py = 700, 400
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, dt: int = 0, **kw: Any) -> None:
        self.now += dt
        self.events.append({"type": type_, "ts": self.now, "seq": self.seq, "url": self.url, **kw})
        self.seq += 1

    def page(self, path: str, nav: str = "load") -> None:
        self.url = BASE + path
        self.add("pageview", 0, nav=nav, ref="", vw=self.vw, vh=self.vh, dh=3000)

    def read(self) -> None:
        y = 0
        for _ in range(self.rng.randint(2, 5)):
            if not self.mobile:  # a smooth glide to somewhere on the page
                tx, ty = self.rng.randint(50, 1300), self.rng.randint(50, 800)
                steps = self.rng.randint(4, 10)
                for k in range(1, steps + 1):
                    x = self.px + (tx - self.px) * k // steps
                    y_ = self.py + (ty - self.py) * k // steps
                    self.add("move", 50, x=x, y=y_)
                self.px, self.py = tx, ty
            self.now += self.rng.randint(800, 4000)
            y = min(y + self.rng.randint(200, 600), 3000 - self.vh)
            self.add("scroll", 250, y=y, vh=self.vh, dh=3000)
        self.now += self.rng.randint(500, 3000)

    def click(
        self, sel: str, respond: bool = True, x: int = 300, y: int = 400, kind: str = "clickable"
    ) -> None:
        pt = "touch" if self.mobile else "mouse"
        self.add("click", 400, x=x, y=y, sel=sel, tag=sel.split("#")[0], kind=kind, pt=pt)
        if respond:
            self.add("mutation", self.rng.randint(30, 300))

    def leave(self) -> None:
        self.add("pagehide", self.rng.randint(100, 400))
        self.now += self.rng.randint(100, 500)

    def checkout(self, broken_coupon: bool, abandon: bool) -> None:
        self.page("/checkout")
        self.read()
        form = "form#checkout"
        for field in ("input#email", "input#coupon"):
            self.click(field, respond=False, kind="input")
            self.add("field_focus", 5, sel=field, form=form, kind="text")
            self.add("field_input", self.rng.randint(300, 1500), sel=field, form=form, kind="text")
            self.add("field_blur", self.rng.randint(500, 2000), sel=field, form=form, kind="text")
        if broken_coupon:
            for _ in range(self.rng.randint(3, 6)):
                self.click("button#apply-coupon", respond=False, x=520, y=610)
                self.now -= 400 - self.rng.randint(120, 300)
            self.now += 2500
            self.click("div.coupon-help", respond=False, x=300, y=700)
            self.now += 2000
        if not abandon:
            self.add("submit", 800, form=form)
        self.leave()


def _visit(rng: Any, start_ms: int) -> list[dict[str, Any]]:
    mobile = rng.random() < 0.45
    v = _Visit(rng, start_ms, mobile)
    v.page("/")
    v.read()
    v.click("a.product", respond=True)
    v.leave()
    v.page("/products/kobe-sofa")
    v.read()
    if mobile and rng.random() < 0.35:  # rotated to see the photos, and back
        v.add("orientation", 1500, o="landscape", w=844, h=390)
        v.add("orientation", 4000, o="portrait", w=390, h=844)
    if rng.random() < 0.12:  # went to the table and came straight back
        v.click("a.related", respond=False)
        v.leave()
        v.page("/products/oak-table")
        v.add("pagehide", rng.randint(1200, 3000))
        v.page("/products/kobe-sofa", nav="back_forward")
        v.read()
    if rng.random() < 0.7:
        v.click("button#add-to-cart")
        v.leave()
        v.checkout(broken_coupon=rng.random() < 0.3, abandon=rng.random() < 0.15)
    else:
        v.leave()
    return v.events


def add(ctx: DemoContext) -> None:
    unit = ctx.units["ecommerce"]
    base = ctx.settings.base_url.rstrip("/")
    origins = sorted({base, "http://127.0.0.1:8000", "http://localhost:8000"})
    row = create_site(
        session=ctx.session,
        data=SiteCreate(
            org_unit_id=unit.id, name="Sakura Living online store", allowed_origins=origins
        ),  # fmt: skip
        site_key=SITE_KEY,
    )
    site = site_info(row)
    visitors = [c for c in ctx.customers if c.org_unit_id == unit.id][:120] or ctx.customers[:120]
    for i, customer in enumerate(visitors):
        customer.identities.append(CustomerIdentity(kind="web_visitor_id", value=f"web-{i:05d}"))
    ctx.session.flush()
    arrivals = []
    for n in range(SESSIONS):
        received = ctx.now - timedelta(days=ctx.rng.uniform(0.1, 30))
        start_ms = int(received.timestamp() * 1000) - 600_000
        events = _visit(ctx.rng, start_ms)
        linked = visitors and ctx.rng.random() < 0.4
        ref = f"web-{ctx.rng.randrange(len(visitors)):05d}" if linked else None
        for j in range(0, len(events), 200):
            chunk = events[j : j + 200]
            body = {"v": 1, "site_key": SITE_KEY, "session_id": f"demo{n:06d}sess",
                    "batch_id": f"demo{n:06d}b{j:04d}", "customer_id": ref,
                    "sent_at": chunk[-1]["ts"] + 50, "events": chunk}  # fmt: skip
            checked = check_batch(json.dumps(body).encode(), now_ms=body["sent_at"])
            arrivals.append(Arrival(site, checked, received))
    store_arrivals(session=ctx.session, arrivals=arrivals)
    close_idle_sessions(session=ctx.session, now=ctx.now + timedelta(hours=1))
    ctx.extra["digital_site_key"] = SITE_KEY
