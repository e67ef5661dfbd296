"""CX KPIs of one unit and period side by side across the values of a customer segment
(customer_type, tier, region, industry), each tested against everyone else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from cxloop.engage import cx_metrics, cx_periods
from cxloop.engage.cx_metrics import SEGMENT_DIMS
from cxloop.engage.cx_stats import Moments, compare
from cxloop.engage.hierarchy import UnitRef
from cxloop.engage.kpis import MetricInfo, kpis_for, resolve_metric
from cxloop.signals.metrics import period_floor


@dataclass(frozen=True)
class SegmentFigure:
    """One segment value of one CX KPI; ``vs_rest_*`` test it against the other customers."""

    metric: MetricInfo
    value: str
    n: int
    estimate: float
    low: float | None
    high: float | None
    small_sample: bool
    vs_rest: float | None
    vs_rest_p: float | None
    vs_rest_significant: bool | None


def compare_segments(
    *, session: Session, unit: UnitRef, period: str, start: date, dim: str, min_n: int = 30
) -> list[SegmentFigure]:
    """Every CX KPI the unit follows, per value of ``dim``, largest segments first."""
    if dim not in SEGMENT_DIMS:
        raise ValueError(f"segment must be one of {', '.join(SEGMENT_DIMS)}")
    start = period_floor(period, start)
    out: list[SegmentFigure] = []
    for kpi in kpis_for(session, unit)[0]:
        info = resolve_metric(session, kpi.metric)
        if info.source != "cx" or info.cx_kind is None:
            continue
        total = cx_periods.period_moments(
            session=session, metric=info.name, unit_id=unit.id, grain=period, starts=[start]
        )[0]
        parts = cx_periods.segment_moments(
            session=session,
            metric=info.name,
            unit_ids=[unit.id],
            grain=period,
            start=start,
            dim=dim,
        )
        for (_, value), m in sorted(parts.items(), key=lambda kv: -kv[1].n):
            est = cx_metrics.figure(info.name, m, min_n=min_n)
            if est is None:
                continue
            rest = _minus(total, m)
            test = compare(info.cx_kind, rest, m) if rest is not None else None
            out.append(
                SegmentFigure(
                    metric=info,
                    value=value,
                    n=m.n,
                    estimate=est.value,
                    low=est.low if est.low == est.low else None,
                    high=est.high if est.high == est.high else None,
                    small_sample=est.small_sample,
                    vs_rest=test.difference if test else None,
                    vs_rest_p=test.p_value if test else None,
                    vs_rest_significant=test.significant if test else None,
                )
            )
    return out


def _minus(total: Moments | None, part: Moments) -> Moments | None:
    if total is None or total.n - part.n <= 0:
        return None
    return Moments(
        total.n - part.n,
        total.a - part.a,
        total.b - part.b,
        total.s - part.s,
        total.ss - part.ss,
    )
