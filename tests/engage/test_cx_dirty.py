"""Stored records mark their unit's day stale; the minute job refreshes only those days."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.config import Settings
from cxloop.engage import cx_dirty, cx_metrics
from cxloop.engage.cx_periods import period_moments
from cxloop.engage.cx_stats import Moments
from cxloop.engage.hierarchy import get_unit
from cxloop.engage.kpis import KpiCreate, create_kpi
from cxloop.engage.scorecard import build_scorecard
from cxloop.jobs import build_huey, enqueue, task_names
from cxloop.signals.digital_sessions import close_idle_sessions
from cxloop.signals.feedback import IngestContext, ingest
from cxloop.signals.survey_responses import open_public, save_answers
from cxloop.store.base import utcnow
from cxloop.store.models.digital import DigitalSession
from cxloop.store.models.metrics import CxDirtyDay, CxPeriodRollup, CxRollup
from tests.conftest import Org
from tests.digital_helpers import frustrated_visit, make_site
from tests.digital_helpers import ingest as ingest_batch
from tests.engage.test_cx_wiring import _responses
from tests.survey_helpers import make_survey


def _run_through_consumer(settings: Settings, name: str = "refresh_dirty_cx_days") -> Any:
    huey = build_huey(settings, name=f"cx-dirty-{uuid.uuid4().hex[:8]}")
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        return enqueue(huey, name).get(blocking=True, timeout=30)
    finally:
        consumer.stop(graceful=True)
        huey.flush()


def test_the_refresh_runs_every_minute() -> None:
    assert "refresh_dirty_cx_days" in task_names()
    from cxloop.jobs import _SPECS

    assert _SPECS["refresh_dirty_cx_days"].schedule == {"minute": "*"}


def test_a_submitted_response_reaches_the_scorecard_through_the_job(
    session: Session, org: Org, settings: Settings
) -> None:
    store = org.unit("store_a")
    survey = make_survey(session, store, anonymous=True)
    create_kpi(session=session, data=KpiCreate(org_unit_id=org.unit("acme").id, metric="cx:nps"))
    session.commit()
    now = utcnow()
    form = open_public(session=session, survey=survey, nonce=None, language="en")
    save_answers(session=session, form=form, given={"nps": 10}, complete=True, now=now)
    session.commit()
    assert cx_dirty.pending(session) == []  # the scorecard hears of it from a job
    assert _run_through_consumer(settings, "publish_survey_responses") == 1

    today = now.astimezone(ZoneInfo("Asia/Tokyo")).date()  # the store's own day
    session.expire_all()
    assert cx_dirty.pending(session) == [(store.id, today)]
    month = today.replace(day=1)
    acme = get_unit(session, org.unit("acme").id)
    assert acme is not None
    card = build_scorecard(session=session, unit=acme, period="month", start=month).cards[0]
    assert card.current is None  # not folded in yet

    report = dict(_run_through_consumer(settings))
    assert report["days"] == 1
    session.expire_all()
    assert cx_dirty.pending(session) == []
    card = build_scorecard(session=session, unit=acme, period="month", start=month).cards[0]
    assert card.current is not None
    assert (card.current.value, card.current.n) == (100.0, 1)


def test_a_late_record_refreshes_its_old_day_and_nothing_else(session: Session, org: Org) -> None:
    old = date(2025, 6, 10)
    _responses(session, org, "store_a", [10, 3], day=old)
    _responses(session, org, "store_a", [9], day=old + timedelta(days=1))
    _responses(session, org, "store_b", [0], day=old)
    _responses(session, org, "store_c", [8], day=old)
    cx_metrics.refresh_rollups(session=session, since=date(2025, 6, 1), until=date(2025, 7, 1))
    session.commit()
    days_before = dict(session.execute(select(CxRollup.id, CxRollup.org_unit_id)).all())
    totals_before = set(session.scalars(select(CxPeriodRollup.id)))

    # A review written that day arrives months later.
    at = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
    (result,) = ingest(
        session=session,
        items=[
            {
                "source": "review",
                "text": "Lovely staff.",
                "rating": 5,
                "rating_scale": 5,
                "org_unit": "store_a",
                "occurred_at": at.isoformat(),
            }
        ],
        context=IngestContext(scope=None),
    )
    assert result.status == "created"
    ingest(  # marking the same day again is one mark
        session=session,
        items=[
            {
                "source": "review",
                "text": "Quick checkout.",
                "rating": 4,
                "rating_scale": 5,
                "org_unit": "store_a",
                "occurred_at": (at + timedelta(hours=1)).isoformat(),
            }
        ],
        context=IngestContext(scope=None),
    )
    session.commit()
    a = org.unit("store_a").id
    assert cx_dirty.pending(session) == [(a, old)]

    assert cx_dirty.refresh_dirty(session=session)["days"] == 1
    session.commit()
    days_after = dict(session.execute(select(CxRollup.id, CxRollup.org_unit_id)).all())
    kept = {i for i in days_before if i in days_after}
    rewritten = set(days_before) - kept
    # Only store_a's 10 June rows were rebuilt: its 11 June and the other stores' stay.
    rewritten_days = {
        d for (d,) in session.execute(select(CxRollup.day).where(CxRollup.id.in_(kept)))
    }
    assert {days_before[i] for i in rewritten} == {a}
    assert {days_after[i] for i in kept} == {a, org.unit("store_b").id, org.unit("store_c").id}
    assert rewritten_days == {old, old + timedelta(days=1)}
    # Period totals: store_a and its ancestors are rebuilt; store_b and west are not.
    untouched = totals_before & set(session.scalars(select(CxPeriodRollup.id)))
    units_kept = set(
        session.scalars(select(CxPeriodRollup.org_unit_id).where(CxPeriodRollup.id.in_(untouched)))
    )
    assert units_kept == {org.unit(c).id for c in ("store_b", "store_c", "west")}

    def month(code: str, metric: str) -> Moments | None:
        return period_moments(
            session=session,
            metric=metric,
            unit_id=org.unit(code).id,
            grain="month",
            starts=[date(2025, 6, 1)],
        )[0]

    assert month("acme", "stars") == Moments(2, 0, 0, 9.0, 41.0)
    assert month("acme", "nps") == Moments(5, 2, 2, 30.0, 254.0)  # unchanged
    assert cx_dirty.pending(session) == []


def test_a_mark_made_during_a_refresh_survives_it(session: Session, org: Org) -> None:
    a = org.unit("store_a").id
    at = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)
    assert cx_dirty.mark_stored(session, [(a, at), (a, at + timedelta(hours=2)), (None, at)]) == 1
    session.commit()
    read = session.execute(select(CxDirtyDay.id, CxDirtyDay.marked_at)).all()
    cx_dirty.mark_stored(session, [(a, at)])  # a new record for the day, mid-refresh
    session.commit()
    cx_dirty.clear_marks(session, read)
    session.commit()
    assert cx_dirty.pending(session) == [(a, date(2025, 6, 10))]


def test_a_closed_frustrated_session_marks_its_day(session: Session, org: Org) -> None:
    site = make_site(session, org.unit("store_a"))
    visit = frustrated_visit()
    batch = visit.batch()
    ingest_batch(session, site, batch, received_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert close_idle_sessions(session=session) == 1
    session.commit()
    (started,) = session.execute(select(DigitalSession.started_at)).one()
    day = started.astimezone(ZoneInfo("Asia/Tokyo")).date()
    assert cx_dirty.pending(session) == [(org.unit("store_a").id, day)]
    cx_dirty.refresh_dirty(session=session)
    assert (
        session.scalar(
            select(CxRollup.n).where(
                CxRollup.metric == "dxs", CxRollup.dim == "", CxRollup.day == day
            )
        )
        == 1
    )
