"""The demo tells the scorecard's story."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.demo import DemoContext, company, metrics
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.scorecard import build_scorecard, default_period_start


def test_demo_scorecard_story(session: Session, settings: Settings) -> None:
    now = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    ctx = DemoContext(session, settings, random.Random(7), now)
    company.add(ctx)
    session.flush()
    metrics.add(ctx)
    session.flush()
    start = default_period_start("month", date.today())

    def card(code: str) -> dict:
        unit = get_unit(session, ctx.units[code].id)
        assert unit is not None
        sc = build_scorecard(session=session, unit=unit, period="month", start=start)
        return {c.metric.ref: c for c in sc.cards}

    top = card("sakura")
    assert len(top) == 6 and all(c.owner for c in top.values())
    flagged = [ref for ref, c in top.items() if c.needs_comment]
    assert flagged == ["metric:new_customers"]  # off track, nobody has explained it
    assert top["cx:nps"].comment is not None
    kansai, kanto = card("kansai"), card("kanto")
    assert kansai["cx:nps"].current.value < kanto["cx:nps"].current.value - 15  # type: ignore[union-attr]
    assert kansai["metric:delivery_days"].status == "off_track"
    assert kansai["metric:revenue"].target is None  # a total's target is not inherited
    aht = [p.value for p in card("cc-sapporo")["metric:aht"].trend]
    assert aht[0] is not None and aht[-1] is not None and aht[-1] < aht[0] - 50
    assert len(top["cx:nps"].trend) == 12 and all(p.value is not None for p in top["cx:nps"].trend)
