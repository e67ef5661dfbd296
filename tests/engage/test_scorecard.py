"""Scorecard: targets and status, inheritance, commentary, gaps, hierarchy, why it moved."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from cxloop.engage.hierarchy import get_unit, metric_values
from cxloop.engage.kpis import KpiCreate, ScorecardError, create_kpi, kpis_for, resolve_metric
from cxloop.engage.movers import explain
from cxloop.engage.scorecard import build_scorecard, default_period_start
from cxloop.engage.targets import (
    CommentCreate,
    TargetIn,
    add_comment,
    comment_history,
    set_targets,
    status,
)
from cxloop.signals.metrics_rollup import rebuild_all
from tests.conftest import Org
from tests.engage.factories import add_metric, add_point, add_rollup, build_periods

FEB, MAR = date(2025, 2, 1), date(2025, 3, 1)


@pytest.mark.parametrize(
    ("value", "target", "threshold", "direction", "want"),
    [
        (40, 40, 30, "higher", "on_track"),  # meeting the target exactly is on track
        (39.9, 40, 30, "higher", "at_risk"),
        (30, 40, 30, "higher", "at_risk"),  # the threshold itself is still at risk
        (29.9, 40, 30, "higher", "off_track"),
        (35, 40, None, "higher", "off_track"),  # no band: below target is off track
        (300, 300, 360, "lower", "on_track"),
        (300.1, 300, 360, "lower", "at_risk"),
        (360, 300, 360, "lower", "at_risk"),
        (360.1, 300, 360, "lower", "off_track"),
        (250, 300, None, "lower", "on_track"),
        (None, 300, 360, "lower", "no_data"),
        (5, None, None, "higher", "no_target"),
    ],
)
def test_status_both_directions_and_edges(value, target, threshold, direction, want) -> None:
    assert status(value, target, threshold, direction) == want


def _kpi(session: Session, org: Org, metric: str, unit: str = "acme"):
    return create_kpi(session=session, data=KpiCreate(org_unit_id=org.unit(unit).id, metric=metric))


def test_targets_validate_order_and_conflicts(session: Session, org: Org) -> None:
    kpi = _kpi(session, org, "cx:nps")
    acme = org.unit("acme").id
    with pytest.raises(ScorecardError, match=r"targets\[0\].*threshold 50 is above the target 40"):
        set_targets(
            session=session,
            kpi=kpi,
            direction="higher",
            targets=[TargetIn(org_unit_id=acme, period_start=MAR, target=40, threshold=50)],
        )
    two = [
        TargetIn(org_unit_id=acme, period_start=MAR, target=40),
        TargetIn(org_unit_id=acme, period_start=MAR, target=45),
    ]
    with pytest.raises(ScorecardError, match=r"targets\[1\] conflicts with targets\[0\]") as exc:
        set_targets(session=session, kpi=kpi, direction="higher", targets=two)
    assert exc.value.status == 409
    with pytest.raises(ScorecardError, match="not the first day of a month"):
        set_targets(
            session=session,
            kpi=kpi,
            direction="higher",
            targets=[TargetIn(org_unit_id=acme, period_start=date(2025, 3, 5), target=1)],
        )
    ok = [TargetIn(org_unit_id=acme, period_start=MAR, target=40, threshold=30)]
    assert set_targets(session=session, kpi=kpi, direction="higher", targets=ok).created == 1
    with pytest.raises(ScorecardError, match="existing target 40"):
        set_targets(session=session, kpi=kpi, direction="higher", targets=ok, replace=False)
    aht = _kpi(
        session,
        org,
        "metric:" + add_metric(session, acme, "aht", unit="seconds", direction="lower").key,
    )
    with pytest.raises(ScorecardError, match="lower is better"):
        set_targets(
            session=session,
            kpi=aht,
            direction="lower",
            targets=[TargetIn(org_unit_id=acme, period_start=MAR, target=300, threshold=250)],
        )


def test_kpi_choice_rules(session: Session, org: Org) -> None:
    acme = org.unit("acme").id
    with pytest.raises(ScorecardError, match="unknown metric 'cx:nope'"):
        _kpi(session, org, "cx:nope")
    for m in ("cx:nps", "cx:csat", "cx:ces", "cx:stars", "cx:sentiment", "cx:complaint_rate"):
        _kpi(session, org, m)
    with pytest.raises(ScorecardError, match="at most 6"):
        _kpi(session, org, "cx:dxs")
    moved = create_kpi(
        session=session, data=KpiCreate(org_unit_id=org.unit("east").id, metric="cx:nps")
    )
    store = get_unit(session, org.unit("store_a").id)
    assert store is not None
    inherited, owner = kpis_for(session, store)
    assert owner == org.unit("east").id and [k.id for k in inherited] == [moved.id]
    company = get_unit(session, acme)
    assert company is not None
    assert [k.metric for k in kpis_for(session, company)[0]][:2] == ["cx:nps", "cx:csat"]


def test_scorecard_values_targets_inheritance_comments_and_flag(session: Session, org: Org) -> None:
    acme, a, b = org.unit("acme").id, org.unit("store_a").id, org.unit("store_b").id
    nps = _kpi(session, org, "cx:nps")
    aht_def = add_metric(
        session, acme, "aht", unit="seconds", direction="lower", aggregation="mean"
    )
    aht = _kpi(session, org, "metric:aht")
    # NPS: February 40 % promoters, 20 % detractors; March worse (25 / 35).
    add_rollup(session, "nps", a, date(2025, 2, 10), n=200, a=80, b=40)
    add_rollup(session, "nps", a, date(2025, 3, 10), n=200, a=50, b=70)
    add_point(session, aht_def, a, FEB, 300)
    add_point(session, aht_def, b, FEB, 340)
    add_point(session, aht_def, a, MAR, 280)
    add_point(session, aht_def, b, MAR, 300)
    rebuild_all(session=session)
    build_periods(session)
    set_targets(
        session=session,
        kpi=nps,
        direction="higher",
        targets=[TargetIn(org_unit_id=acme, period_start=MAR, target=10, threshold=0)],
    )
    set_targets(
        session=session,
        kpi=aht,
        direction="lower",
        targets=[
            TargetIn(org_unit_id=acme, period_start=MAR, target=300, threshold=320),
            TargetIn(org_unit_id=a, period_start=MAR, target=270, threshold=275),
        ],
    )
    session.flush()
    company = get_unit(session, acme)
    store = get_unit(session, a)
    assert company and store
    card = build_scorecard(session=session, unit=company, period="month", start=MAR)
    by = {c.metric.ref: c for c in card.cards}
    n = by["cx:nps"]
    assert n.current is not None and n.current.value == pytest.approx(-10.0)
    assert n.current.n == 200 and n.current.low is not None and n.current.low < -10 < n.current.high
    assert n.previous is not None and n.previous.value == pytest.approx(20.0)
    assert n.change is not None and n.change.significant and n.change.improved is False
    assert n.status == "off_track" and n.needs_comment
    assert [p.value for p in n.trend][-2:] == pytest.approx([20.0, -10.0])
    assert n.trend[0].value is None  # months without responses are gaps, not zero
    h = by["metric:aht"]
    assert h.current is not None and h.current.value == pytest.approx(290.0)  # mean of stores
    assert h.status == "on_track" and not h.target_inherited
    assert h.change is not None and h.change.improved is True and h.change.significant is None
    # The store has its own AHT target and inherits the NPS one from the company.
    store_card = {
        c.metric.ref: c
        for c in build_scorecard(session=session, unit=store, period="month", start=MAR).cards
    }
    assert store_card["metric:aht"].target == 270 and store_card["metric:aht"].status == "off_track"
    assert store_card["cx:nps"].target == 10 and store_card["cx:nps"].target_inherited
    # Commentary clears the flag and keeps its history.
    for why in ("Delivery delays in March", "Delivery delays: carrier strike in Osaka"):
        add_comment(
            session=session,
            kpi=nps,
            data=CommentCreate(
                org_unit_id=acme, period_start=MAR, why=why, action="Second carrier from April"
            ),
            author_user_id=org.users["exec"].id,
            author="exec",
        )
    again = {
        c.metric.ref: c
        for c in build_scorecard(session=session, unit=company, period="month", start=MAR).cards
    }
    assert not again["cx:nps"].needs_comment
    assert again["cx:nps"].comment is not None and again["cx:nps"].comment.version == 2
    history = comment_history(session, nps.id, acme, "month", MAR)
    assert [c.why for c in history] == [
        "Delivery delays: carrier strike in Osaka",
        "Delivery delays in March",
    ]
    with pytest.raises(ScorecardError, match="write why"):
        add_comment(
            session=session,
            kpi=nps,
            data=CommentCreate(org_unit_id=acme, period_start=MAR, why="  "),
            author_user_id=None,
            author="x",
        )


def test_nearest_level_no_double_count_finer_rollup_and_gaps(session: Session, org: Org) -> None:
    acme = org.unit("acme").id
    rev = add_metric(session, acme, "revenue", unit="JPY")
    add_point(session, rev, org.unit("store_a").id, FEB, 100)
    add_point(session, rev, org.unit("store_b").id, FEB, 50)
    add_point(session, rev, org.unit("east").id, FEB, 160)  # the region's own figure wins
    add_point(session, rev, org.unit("store_c").id, FEB, 70)
    for d in (1, 2, 3):  # daily points for March only
        add_point(session, rev, org.unit("store_c").id, date(2025, 3, d), 10, period="day")
    session.flush()
    rebuild_all(session=session)
    jan = date(2025, 1, 1)

    def values(code: str) -> list[float | None]:
        return metric_values(
            session=session,
            metric_id=rev.id,
            unit_id=org.unit(code).id,
            granularity="month",
            starts=[jan, FEB, MAR],
        )

    assert values("east") == [None, 160, None]
    assert values("acme") == [None, 230, 30]  # regions' level: east 160 + store_c 70
    assert values("west") == [None, 70, 30]


def test_why_it_moved_all_mix_when_rates_hold(session: Session, org: Org) -> None:
    a, b = org.unit("store_a").id, org.unit("store_b").id
    # store_a NPS 50 both months, store_b NPS 0 both months; store_b's share grows.
    add_rollup(session, "nps", a, date(2025, 2, 5), n=100, a=60, b=10)
    add_rollup(session, "nps", b, date(2025, 2, 5), n=100, a=30, b=30)
    add_rollup(session, "nps", a, date(2025, 3, 5), n=50, a=30, b=5)
    add_rollup(session, "nps", b, date(2025, 3, 5), n=150, a=45, b=45)
    session.flush()
    east = get_unit(session, org.unit("east").id)
    assert east is not None
    got = explain(
        session=session,
        metric=resolve_metric(session, "cx:nps"),
        unit=east,
        before=(FEB, MAR),
        after=(MAR, date(2025, 4, 1)),
    )
    d = got.by_unit
    assert d is not None
    assert d.before == pytest.approx(25.0) and d.after == pytest.approx(12.5)
    assert d.mix == pytest.approx(-12.5) and d.rate == pytest.approx(0.0)
    assert got.unit_names[d.segments[0].segment] in ("Store A", "Store B")


def test_default_period_is_last_complete() -> None:
    assert default_period_start("month", date(2025, 3, 17)) == FEB
    assert default_period_start("quarter", date(2025, 3, 17)) == date(2024, 10, 1)
    assert default_period_start("week", date(2025, 3, 19)) == date(2025, 3, 10)
