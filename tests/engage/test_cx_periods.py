"""Subtree totals per unit and period, and how the rollup job keeps them current."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.engage import cx_metrics
from cxloop.engage.cx_periods import period_moments, segment_moments
from cxloop.engage.cx_stats import Moments
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.kpis import resolve_metric
from cxloop.engage.movers import explain
from cxloop.engage.scorecard_tasks import refresh_cx_rollups
from cxloop.jobs import JobContext
from cxloop.store.base import utcnow
from cxloop.store.models import surveys
from cxloop.store.models.metrics import CxPeriodRollup, CxRollup
from tests.conftest import Org
from tests.engage.factories import add_rollup, build_periods
from tests.engage.test_cx_wiring import _responses


def _one(session: Session, org: Org, code: str, grain: str, start: date) -> Moments | None:
    return period_moments(
        session=session, metric="nps", unit_id=org.unit(code).id, grain=grain, starts=[start]
    )[0]


def test_period_totals_are_sums_over_subtree_and_days(session: Session, org: Org) -> None:
    a, b, c, east = (org.unit(x).id for x in ("store_a", "store_b", "store_c", "east"))
    # Monday 2025-03-31 starts a week that ends in April.
    add_rollup(session, "nps", a, date(2025, 3, 30), n=10, a=5, b=1)
    add_rollup(session, "nps", a, date(2025, 3, 31), n=20, a=8, b=4)
    add_rollup(session, "nps", b, date(2025, 4, 2), n=30, a=9, b=9)
    add_rollup(session, "nps", east, date(2025, 4, 3), n=4, a=1, b=1)  # booked on the region
    add_rollup(session, "nps", c, date(2025, 2, 14), n=7, a=7, b=0)
    add_rollup(session, "nps", c, date(2025, 4, 2), n=6, a=2, b=2, dim="tier", value="gold")
    build_periods(session)

    assert _one(session, org, "store_a", "month", date(2025, 3, 1)) == Moments(30, 13, 5)
    assert _one(session, org, "east", "month", date(2025, 4, 1)) == Moments(34, 10, 10)
    assert _one(session, org, "acme", "month", date(2025, 4, 1)) == Moments(34, 10, 10)
    # The week holds one March and two April days.
    assert _one(session, org, "acme", "week", date(2025, 3, 31)) == Moments(54, 18, 14)
    assert _one(session, org, "acme", "week", date(2025, 3, 24)) == Moments(10, 5, 1)
    # A quarter is its three months; store_c's February lands in Q1.
    assert _one(session, org, "acme", "quarter", date(2025, 1, 1)) == Moments(37, 20, 5)
    assert _one(session, org, "west", "quarter", date(2025, 4, 1)) is None  # segment only
    seg = segment_moments(
        session=session,
        metric="nps",
        unit_ids=[org.unit("acme").id, org.unit("east").id],
        grain="quarter",
        start=date(2025, 4, 1),
        dim="tier",
    )
    assert seg == {(org.unit("acme").id, "gold"): Moments(6, 2, 2)}
    # Rebuilding is idempotent: no duplicate rows.
    before = session.scalars(select(CxPeriodRollup.id)).all()
    build_periods(session)
    assert len(session.scalars(select(CxPeriodRollup.id)).all()) == len(before)


def test_job_folds_new_answers_within_its_window_and_backfill_refreshes_a_range(
    session: Session, org: Org, settings: Settings
) -> None:
    today = utcnow().date()
    old = today - timedelta(days=100)
    _responses(session, org, "store_a", [10, 10, 3], day=today)
    _responses(session, org, "store_b", [9, 2], day=old)  # a back-dated import
    session.commit()

    refresh_cx_rollups(JobContext(settings))  # the hourly safety net
    session.expire_all()
    month = today.replace(day=1)
    assert _one(session, org, "acme", "month", month) == Moments(3, 2, 1, 23.0, 209.0)
    old_month = old.replace(day=1)
    assert _one(session, org, "acme", "month", old_month) is None  # outside its two days

    cx_metrics.refresh_rollups(session=session, since=old, until=old + timedelta(days=1))
    assert _one(session, org, "acme", "month", old_month) == Moments(2, 1, 1, 11.0, 85.0)
    assert _one(session, org, "acme", "month", month) == Moments(3, 2, 1, 23.0, 209.0)


def test_days_are_each_units_own_calendar_days(session: Session, org: Org) -> None:
    late = datetime(2025, 3, 2, 20, 0, tzinfo=UTC)  # Monday 05:00 in Tokyo, Sunday in UTC
    org.unit("store_c").timezone = "UTC"
    _responses(session, org, "store_a", [10, 9], day=late.date())  # Asia/Tokyo
    _responses(session, org, "store_c", [0], day=late.date())
    for r in session.scalars(select(surveys.SurveyResponse)):
        r.completed_at = late
    session.flush()
    cx_metrics.refresh_rollups(
        session=session, since=date(2025, 3, 1), until=date(2025, 3, 5), metrics=["nps"]
    )
    days = {
        (unit, day): n
        for unit, day, n in session.execute(
            select(CxRollup.org_unit_id, CxRollup.day, CxRollup.n).where(CxRollup.dim == "")
        )
    }
    assert days == {
        (org.unit("store_a").id, date(2025, 3, 3)): 2,
        (org.unit("store_c").id, date(2025, 3, 2)): 1,
    }
    # So Tokyo's answers open the week of 3 March, the UTC store's close the week before.
    assert _one(session, org, "acme", "week", date(2025, 3, 3)) == Moments(2, 2, 0, 19.0, 181.0)
    assert _one(session, org, "acme", "week", date(2025, 2, 24)) == Moments(1, 0, 1, 0.0, 0.0)
    # A refresh of one day leaves the neighbouring local days alone.
    cx_metrics.refresh_rollups(
        session=session, since=date(2025, 3, 2), until=date(2025, 3, 3), metrics=["nps"]
    )
    assert len(session.scalars(select(CxRollup.id).where(CxRollup.dim == "")).all()) == 2


def test_why_it_moved_reads_the_same_from_period_totals(session: Session, org: Org) -> None:
    a, b, c = (org.unit(x).id for x in ("store_a", "store_b", "store_c"))
    for unit, day, n, pro, det in [
        (a, date(2025, 2, 5), 100, 60, 10),
        (b, date(2025, 2, 20), 100, 30, 30),
        (c, date(2025, 2, 7), 40, 10, 20),
        (a, date(2025, 3, 5), 50, 30, 5),
        (b, date(2025, 3, 9), 150, 45, 45),
        (c, date(2025, 3, 30), 60, 30, 10),
    ]:
        add_rollup(session, "nps", unit, day, n=n, a=pro, b=det)
        add_rollup(session, "nps", unit, day, n=n // 2, a=pro // 2, b=0, dim="tier", value="gold")
        add_rollup(
            session,
            "nps",
            unit,
            day,
            n=n - n // 2,
            a=pro - pro // 2,
            b=det,
            dim="tier",
            value="silver",
        )
    build_periods(session)
    acme = get_unit(session, org.unit("acme").id)
    assert acme is not None
    spans = {
        "before": (date(2025, 2, 1), date(2025, 3, 1)),
        "after": (date(2025, 3, 1), date(2025, 4, 1)),
    }
    nps = resolve_metric(session, "cx:nps")
    by_days = explain(session=session, metric=nps, unit=acme, **spans)
    by_periods = explain(session=session, metric=nps, unit=acme, grain="month", **spans)
    assert by_days.by_unit is not None and len(by_days.by_unit.segments) == 2
    assert by_periods.by_unit == by_days.by_unit
    assert set(by_days.by_segment) == {"tier"}
    assert by_periods.by_segment == by_days.by_segment
