"""An operational metric breaching a bound fires its alert rule as the point arrives."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act import rules
from cxloop.signals.metrics import (
    MetricDefinitionCreate,
    PointIn,
    upsert_definition,
    upsert_points,
)
from cxloop.store.models.act import Case
from tests.conftest import Org


def test_breaching_point_opens_a_case_once_and_a_calm_one_does_not(session: Session, org: Org):
    aht, _ = upsert_definition(
        session=session,
        owner_unit_id=org.unit("acme").id,
        data=MetricDefinitionCreate(
            key="average_handle_time",
            name="AHT",
            unit="seconds",
            direction="lower",
            aggregation="mean",
        ),
    )
    rules.create_rule(
        session=session,
        org_unit_id=org.unit("acme").id,
        name="AHT too long",
        condition='metric("average_handle_time") > 600',
        actions=[{"type": "open_case"}],
    )

    def point(unit: str, value: float) -> PointIn:
        return PointIn(aht.id, org.unit(unit).id, "month", date(2026, 10, 1), value)

    upsert_points(session=session, points=[point("store_a", 420), point("store_c", 650)])
    cases = session.scalars(select(Case)).all()
    assert [(c.org_unit_id, c.record_kind) for c in cases] == [(org.unit("store_c").id, "metric")]
    upsert_points(session=session, points=[point("store_c", 650)])  # unchanged: no new signal
    assert len(session.scalars(select(Case)).all()) == 1
    upsert_points(session=session, points=[point("store_a", 700)])  # corrected upwards
    assert len(session.scalars(select(Case)).all()) == 2
