"""Builders for digital tests: a tracked site and tracker batches in wire format."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy.orm import Session

from cxloop.signals.digital_sites import SiteCreate, create_site
from cxloop.store.models.digital import DigitalSite
from cxloop.store.models.org import OrgUnit

ORIGIN = "https://shop.example"
SITE_KEY = "cxs_test_site_key"


def make_site(
    session: Session,
    unit: OrgUnit,
    *,
    key: str = SITE_KEY,
    origins: tuple[str, ...] = (ORIGIN,),
    **fields: Any,
) -> DigitalSite:
    site = create_site(
        session=session,
        data=SiteCreate(
            org_unit_id=unit.id, name=f"site {key}", allowed_origins=list(origins), **fields
        ),
        site_key=key,
    )
    session.commit()
    return site


def now_ms() -> int:
    return int(time.time() * 1000)


def new_id() -> str:
    return uuid.uuid4().hex


class Visit:
    """A tracker session: call the event helpers, then ``batch()`` to cut a POST body."""

    def __init__(self, site_key: str = SITE_KEY, start_ms: int | None = None) -> None:
        self.site_key = site_key
        self.session_id = new_id()
        self.now = start_ms if start_ms is not None else now_ms() - 60_000
        self.seq = 0
        self.url = ORIGIN + "/"
        self.pending: list[dict[str, Any]] = []
        self.customer_id: str | None = None

    def add(self, type_: str, dt: int = 0, **kw: Any) -> dict[str, Any]:
        self.now += dt
        event = {"type": type_, "ts": self.now, "seq": self.seq, "url": self.url, **kw}
        self.seq += 1
        self.pending.append(event)
        return event

    def pageview(self, path: str, dt: int = 0, nav: str = "load") -> None:
        self.url = ORIGIN + path
        self.add("pageview", dt, nav=nav, ref="", vw=1280, vh=800, dh=3200)

    def click(self, sel: str, dt: int = 100, x: float = 200, y: float = 300) -> None:
        self.add("click", dt, x=x, y=y, sel=sel, tag="button", kind="clickable", pt="mouse")

    def rage(self, sel: str = "button#apply-coupon") -> None:
        for _ in range(4):
            self.click(sel, dt=150)
        self.now += 2000

    def calm_page(self, path: str) -> None:
        self.pageview(path)
        for i in range(6):
            self.add("move", 50, x=100 + 10 * i, y=200)
        self.add("scroll", 1000, y=400, vh=800, dh=3200)
        self.click("a.next", dt=1500)
        self.add("mutation", 50)
        self.add("pagehide", 800)

    def batch(self, **override: Any) -> dict[str, Any]:
        body = {
            "v": 1,
            "site_key": self.site_key,
            "session_id": self.session_id,
            "batch_id": new_id(),
            "customer_id": self.customer_id,
            "sent_at": self.now + 10,
            "events": self.pending,
        }
        self.pending = []
        body.update(override)
        return body


def body(batch: dict[str, Any]) -> bytes:
    return json.dumps(batch).encode()


def ingest(
    session: Session, site: DigitalSite, batch: dict[str, Any], received_at: Any = None
) -> str:
    """Store one batch as the collector would (checks, then the writer's store step)."""
    from datetime import UTC, datetime

    from cxloop.signals.digital_collect import check_batch
    from cxloop.signals.digital_ingest import Arrival, add_counts, counts_for, store_arrivals
    from cxloop.signals.digital_sites import site_info

    checked = check_batch(body(batch), now_ms=batch["sent_at"])
    arrival = Arrival(site_info(site), checked, received_at or datetime.now(UTC))
    [outcome] = store_arrivals(session=session, arrivals=[arrival])
    add_counts(session=session, counts=counts_for(arrival, outcome))
    session.commit()
    return outcome


def frustrated_visit(site_key: str = SITE_KEY) -> Visit:
    """Product page, then checkout with a broken coupon button (rage) and a dead banner."""
    v = Visit(site_key)
    v.calm_page("/shoes")
    v.pageview("/checkout")
    v.rage("button#apply-coupon")
    v.click("div.promo-banner", dt=500, x=600, y=100)
    v.add("move", 2500, x=10, y=10)
    v.add("pagehide", 500)
    return v
