"""The demo's digital step: a tracked shop with some frustrated sessions, deterministic."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.demo import DemoContext
from cxloop.demo import digital as demo_digital
from cxloop.signals.customers import CustomerCreate, upsert_customer
from cxloop.store.models.digital import DigitalSession, DigitalSignal, DigitalSite
from cxloop.store.org import create_unit
from cxloop.web.pages.collector import TRACKER
from tests.conftest import Org


def test_demo_sessions_show_the_broken_coupon_and_rotations(
    session: Session, settings: Settings, org: Org
) -> None:
    unit = create_unit(session=session, code="ecommerce", name="Online", kind="ecommerce",
                       parent=org.unit("acme"))  # fmt: skip
    customers = [
        upsert_customer(session=session, data=CustomerCreate(org_unit_id=unit.id))[0]
        for _ in range(5)
    ]
    ctx = DemoContext(session, settings, random.Random(7), datetime(2026, 5, 1, tzinfo=UTC))
    ctx.units = {"ecommerce": unit}
    ctx.customers = customers

    demo_digital.add(ctx)
    session.flush()

    site = session.scalars(select(DigitalSite)).one()
    assert site.site_key == demo_digital.SITE_KEY and site.org_unit_id == unit.id
    n = session.scalar(select(func.count()).select_from(DigitalSession))
    assert n == demo_digital.SESSIONS
    open_ = session.scalar(select(func.count()).where(DigitalSession.status == "open"))
    assert open_ == 0
    kinds = Counter(
        (t, url.rsplit("/", 1)[1], sel)
        for t, url, sel in session.execute(
            select(DigitalSignal.type, DigitalSignal.url, DigitalSignal.selector)
        )
    )
    assert kinds[("rage_click", "checkout", "button#apply-coupon")] > 30
    assert kinds[("dead_click", "checkout", "div.coupon-help")] > 30
    assert sum(v for (t, page, _), v in kinds.items() if t == "device_rotation") > 10
    assert {page for (t, page, _) in kinds if t == "device_rotation"} == {"kobe-sofa"}
    assert sum(v for (t, _, _), v in kinds.items() if t == "quick_back") > 10
    frustrated = session.scalar(select(func.count()).where(DigitalSession.frustrated.is_(True)))
    assert 0.1 * n < frustrated < 0.7 * n
    linked = session.scalar(select(func.count()).where(DigitalSession.customer_id.is_not(None)))
    assert linked > 50


def test_demo_shop_pages_carry_the_tracker_and_the_demo_key() -> None:
    shop = TRACKER.parent / "demo-shop"
    for name in ("index.html", "product.html", "checkout.html"):
        html = (shop / name).read_text()
        assert '<script src="/t.js" data-site-key="cxs_demo_sakura_shop"' in html
        assert "onclick" not in html  # the app's CSP allows no inline handlers
    assert 'id="apply-coupon"' in (shop / "checkout.html").read_text()
