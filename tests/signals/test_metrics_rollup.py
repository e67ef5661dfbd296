"""Metric rollups follow each write along the written unit's branch only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.metrics import PointIn, upsert_points
from cxloop.signals.metrics_rollup import rebuild_all
from cxloop.store.models.metrics import MetricRollup
from tests.conftest import Org
from tests.engage.factories import add_metric, add_point

JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)
PLACEHOLDER_ID = 1_000_000_000


def _rollups(session: Session) -> dict[int, tuple[int, str, date, float]]:
    rows = session.execute(
        select(
            MetricRollup.id,
            MetricRollup.org_unit_id,
            MetricRollup.period,
            MetricRollup.period_start,
            MetricRollup.value,
        )
    )
    return {i: (u, p, s, v) for i, u, p, s, v in rows}


def test_a_late_point_rebuilds_its_month_along_its_branch_only(session: Session, org: Org):
    revenue = add_metric(session, org.unit("acme").id, "revenue")
    for code in ("store_b", "store_c"):
        add_point(session, revenue, org.unit(code).id, JAN, 100.0)
        add_point(session, revenue, org.unit(code).id, FEB, 50.0)
    add_point(session, revenue, org.unit("store_a").id, FEB, 10.0)
    session.flush()
    rebuild_all(session=session)
    before = _rollups(session)
    # SQLite gives a new row the highest id + 1, so a rebuilt row could get its old id back
    # and look untouched: a placeholder with a higher id makes every row written next new.
    placeholder = MetricRollup(
        id=PLACEHOLDER_ID,
        metric_id=revenue.id,
        org_unit_id=org.unit("acme").id,
        period="year",
        period_start=date(1999, 1, 1),
        value=0.0,
    )
    session.add(placeholder)
    session.flush()

    # store_a's January figure arrives a year late.
    report = upsert_points(
        session=session,
        points=[PointIn(revenue.id, org.unit("store_a").id, "month", JAN, 30.0)],
    )
    assert report.inserted == 1
    session.delete(placeholder)
    session.flush()
    after = _rollups(session)
    branch = {org.unit(c).id for c in ("store_a", "east", "acme")}
    rebuilt = {before[i][:3] for i in before.keys() - after.keys()}
    # Only January (its month and quarter) of store_a's branch was rebuilt; store_a had
    # no January row before, only a quarter row from February.
    assert rebuilt == {(u, p, JAN) for u in branch for p in ("month", "quarter")} - {
        (org.unit("store_a").id, "month", JAN)
    }
    values = {(u, p, s): v for u, p, s, v in after.values()}
    a, east, acme = (org.unit(c).id for c in ("store_a", "east", "acme"))
    assert values[(a, "month", JAN)] == 30.0
    assert values[(east, "month", JAN)] == 130.0
    assert values[(acme, "month", JAN)] == 230.0
    assert values[(acme, "quarter", JAN)] == 230.0 + 110.0
    assert values[(acme, "month", FEB)] == 110.0
    # The same figures as a full rebuild.
    rebuild_all(session=session)
    assert sorted(_rollups(session).values()) == sorted(after.values())
