"""Helpers for scorecard tests: rollups, metric series and KPIs built directly."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from cxloop.store.models.metrics import CxRollup, MetricDefinition, MetricPoint


def add_rollup(
    session: Session,
    metric: str,
    unit_id: int,
    day: date,
    *,
    n: int,
    a: int = 0,
    b: int = 0,
    s: float = 0.0,
    ss: float = 0.0,
    dim: str = "",
    value: str = "",
) -> None:
    session.add(
        CxRollup(
            metric=metric,
            org_unit_id=unit_id,
            day=day,
            dim=dim,
            dim_value=value,
            n=n,
            a=a,
            b=b,
            s=s,
            ss=ss,
        )
    )


def add_metric(
    session: Session,
    owner_unit_id: int,
    key: str,
    *,
    unit: str = "count",
    direction: str = "higher",
    aggregation: str = "sum",
) -> MetricDefinition:
    d = MetricDefinition(
        key=key,
        name=key.replace("_", " ").title(),
        unit=unit,
        direction=direction,
        aggregation=aggregation,
        org_unit_id=owner_unit_id,
    )
    session.add(d)
    session.flush()
    return d


def add_point(
    session: Session,
    metric: MetricDefinition,
    unit_id: int,
    start: date,
    value: float,
    period: str = "month",
) -> None:
    session.add(
        MetricPoint(
            metric_id=metric.id,
            org_unit_id=unit_id,
            period=period,
            period_start=start,
            value=value,
        )
    )


def build_periods(session: Session, since: date = date(2020, 1, 1)) -> None:
    """Rebuild the period totals from rollups added directly (as the rollup job would)."""
    from cxloop.engage.cx_periods import refresh_period_rollups

    session.flush()
    refresh_period_rollups(session=session, since=since, until=date(2030, 1, 1))
