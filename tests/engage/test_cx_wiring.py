"""CX figures computed from raw survey responses and feedback, through the rollups."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from cxloop.engage import cx_metrics
from cxloop.engage.cx_metrics import Segment
from cxloop.engage.cx_stats import Moments, compare, estimate, welch_from_moments
from cxloop.insight import scores
from cxloop.store.models import feedback, surveys
from cxloop.store.models.customers import Customer
from cxloop.store.scope import Scope
from tests.conftest import Org

DAY = date(2025, 3, 3)


def _responses(
    session: Session,
    org: Org,
    unit: str,
    nps: list[int],
    *,
    day: date = DAY,
    customer: Customer | None = None,
    csat: list[int] | None = None,
    ces: list[int] | None = None,
) -> None:
    unit_id = org.unit(unit).id
    survey = surveys.Survey(
        org_unit_id=unit_id,
        key=f"s-{unit}-{day}-{len(nps)}",
        public_token=f"tok-{unit}-{day}-{len(nps)}-{id(nps)}",
    )
    session.add(survey)
    session.flush()
    version = surveys.SurveyVersion(survey_id=survey.id, org_unit_id=unit_id, number=1)
    session.add(version)
    session.flush()
    at = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    for i, score in enumerate(nps):
        session.add(
            surveys.SurveyResponse(
                org_unit_id=unit_id,
                survey_id=survey.id,
                version_id=version.id,
                customer_id=customer.id if customer else None,
                nps=score,
                csat=csat[i] if csat else None,
                ces=ces[i] if ces else None,
                status="complete",
                completed_at=at,
            )
        )
    session.flush()


def test_nps_csat_ces_from_responses_match_the_estimators(session: Session, org: Org) -> None:
    nps = [10, 9, 9, 8, 7, 6, 3, 10, 0, 9, 9, 5]
    csat = [5, 4, 4, 3, 2, 5, 5, 1, 4, 4, 3, 5]
    ces = [7, 6, 5, 5, 4, 7, 3, 6, 6, 2, 5, 7]
    _responses(session, org, "store_a", nps, csat=csat, ces=ces)
    written = cx_metrics.refresh_rollups(
        session=session, since=DAY, until=DAY + timedelta(days=1), metrics=["nps", "csat", "ces"]
    )
    assert written["nps"] >= 1
    scope = Scope((org.unit("acme").path,))
    got = {
        m: cx_metrics.figure(
            m,
            cx_metrics.moments(
                session=session, scope=scope, metric=m, start=DAY, end=DAY + timedelta(days=1)
            )[None],
            min_n=30,
        )
        for m in ("nps", "csat", "ces")
    }
    want = {
        "nps": scores.nps(nps),
        "csat": scores.csat_top2(csat),
        "ces": scores.ces_mean(ces),
    }
    for m in want:
        assert got[m] is not None
        assert got[m].value == pytest.approx(want[m].value)
        assert got[m].low == pytest.approx(want[m].low)
        assert got[m].high == pytest.approx(want[m].high)
        assert got[m].n == 12
        assert got[m].small_sample  # 12 < 30


def test_refresh_is_idempotent_and_scoped_and_segmented(session: Session, org: Org) -> None:
    gold = Customer(org_unit_id=org.unit("store_c").id, tier="gold", customer_type="business")
    session.add(gold)
    session.flush()
    _responses(session, org, "store_a", [10, 10, 0])
    _responses(session, org, "store_c", [9, 9, 9, 2], customer=gold)
    for _ in range(2):
        cx_metrics.refresh_rollups(session=session, since=DAY, until=DAY + timedelta(days=1))
    end = DAY + timedelta(days=1)
    east = cx_metrics.moments(
        session=session, scope=Scope((org.unit("east").path,)), metric="nps", start=DAY, end=end
    )
    assert east[None] == Moments(3, 2, 1, 20.0, 200.0)
    whole = cx_metrics.moments(
        session=session, scope=Scope((org.unit("acme").path,)), metric="nps", start=DAY, end=end
    )
    assert whole[None].n == 7
    golds = cx_metrics.moments(
        session=session,
        scope=Scope((org.unit("acme").path,)),
        metric="nps",
        start=DAY,
        end=end,
        segment=Segment("tier", "gold"),
    )
    assert golds[None].n == 4 and golds[None].a == 3 and golds[None].b == 1
    by_type = cx_metrics.moments(
        session=session,
        scope=Scope((org.unit("acme").path,)),
        metric="nps",
        start=DAY,
        end=end,
        group="segment",
        compare_dim="customer_type",
    )
    assert set(by_type) == {"business"}


def _feedback(
    session: Session,
    unit_id: int,
    source: str,
    i: int,
    *,
    rating: float | None = None,
    scale: int | None = None,
    sentiment: float = 0.0,
) -> None:
    at = datetime(2025, 3, 3, 12, tzinfo=UTC)
    session.add(
        feedback.Feedback(
            org_unit_id=unit_id,
            source=source,
            external_id=f"fb-{i}",
            content_hash=f"h{i}",
            text="t",
            display_text="t",
            rating=rating,
            rating_scale=scale,
            occurred_at=at,
            language="en",
            sentiment_label="neutral",
            sentiment_score=sentiment,
            analyzer_mode="lexicon",
        )
    )


def test_stars_complaints_and_sentiment_from_feedback(session: Session, org: Org) -> None:
    unit = org.unit("store_b").id
    _feedback(session, unit, "review", 1, rating=5, scale=5, sentiment=0.8)
    _feedback(session, unit, "review", 2, rating=3, scale=5, sentiment=0.0)
    _feedback(session, unit, "review", 3, rating=4, scale=10, sentiment=-0.2)  # 2 stars
    _feedback(session, unit, "complaint_letter", 4, sentiment=-0.9)
    session.flush()
    cx_metrics.refresh_rollups(
        session=session,
        since=DAY,
        until=DAY + timedelta(days=1),
        metrics=["stars", "complaint_rate", "sentiment"],
    )
    scope = Scope((org.unit("acme").path,))
    end = DAY + timedelta(days=1)

    def fig(m: str) -> scores.Estimate:
        got = cx_metrics.figure(
            m,
            cx_metrics.moments(session=session, scope=scope, metric=m, start=DAY, end=end)[None],
            min_n=3,
        )
        assert got is not None
        return got

    assert fig("stars").value == pytest.approx(scores.star_average([5, 3, 2]).value)
    assert fig("stars").high == pytest.approx(scores.star_average([5, 3, 2]).high)
    assert fig("complaint_rate").value == pytest.approx(0.25)
    assert fig("complaint_rate").low == pytest.approx(scores.complaint_rate(1, 4).low)
    sent = scores.sentiment_index([0.8, 0.0, -0.2, -0.9], min_n=3)
    assert fig("sentiment").value == pytest.approx(sent.value)
    assert not fig("sentiment").small_sample


def test_moment_estimators_match_the_array_estimators() -> None:
    a = np.array([3.0, 4, 5, 6, 2, 5, 7, 4])
    b = np.array([5.0, 6, 6, 7, 5, 4, 7, 6, 6])

    def mom(x: np.ndarray) -> Moments:
        return Moments(x.size, 0, 0, float(x.sum()), float((x * x).sum()))

    est = estimate("mean", mom(a), min_n=30)
    assert est is not None
    want = scores.mean_t(a)
    assert (est.value, est.low, est.high) == pytest.approx((want.value, want.low, want.high))
    got = welch_from_moments(mom(a), mom(b))
    assert got is not None
    ref = scores.compare_means(a, b)
    assert got.p_value == pytest.approx(ref.p_value)
    assert got.low == pytest.approx(ref.low)
    nps = compare("nps", Moments(200, 80, 40), Moments(220, 70, 70))
    assert nps is not None
    ref_n = scores.compare_nps(scores.NpsCounts(80, 80, 40), scores.NpsCounts(70, 80, 70))
    assert nps.difference == pytest.approx(ref_n.difference)
    assert nps.significant == ref_n.significant
    assert estimate("nps", Moments(), min_n=30) is None
    assert math.isnan(estimate("mean", Moments(1, 0, 0, 4.0, 16.0), min_n=30).low)  # type: ignore[union-attr]
