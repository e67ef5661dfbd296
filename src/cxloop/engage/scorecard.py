"""The scorecard of one org unit for one period: KPIs with value, interval and n, change
from the previous period (tested when sampled), target and status, trend and commentary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from cxloop.engage import cx_metrics, cx_periods
from cxloop.engage.cx_metrics import Segment
from cxloop.engage.cx_stats import Moments, compare, rate
from cxloop.engage.hierarchy import UnitRef, metric_values
from cxloop.engage.kpis import MetricInfo, kpis_for, owner_names, resolve_metric
from cxloop.engage.targets import CommentView, current_comments, effective_targets, status
from cxloop.signals.metrics import period_back, period_floor, period_next

PERIODS = ("week", "month", "quarter")
TREND = 12


@dataclass(frozen=True)
class Figure:
    """A value; sampled figures carry n, a 95 % interval and the small-sample flag."""

    value: float
    n: int | None = None
    low: float | None = None
    high: float | None = None
    small_sample: bool = False
    method: str | None = None


@dataclass(frozen=True)
class Change:
    difference: float
    relative: float | None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    significant: bool | None = None
    improved: bool | None = None


@dataclass(frozen=True)
class TrendPoint:
    start: date
    value: float | None


@dataclass
class KpiCard:
    kpi_id: int
    metric: MetricInfo
    rank: int
    owner: str | None
    current: Figure | None
    previous: Figure | None
    change: Change | None
    target: float | None
    threshold: float | None
    target_inherited: bool
    status: str
    trend: list[TrendPoint]
    comment: CommentView | None
    needs_comment: bool


@dataclass
class Scorecard:
    unit: UnitRef
    kpi_unit_id: int | None
    period: str
    start: date
    end: date
    segment: Segment
    cards: list[KpiCard] = field(default_factory=list)


def default_period_start(period: str, today: date) -> date:
    """The last complete period before ``today``."""
    return period_floor(period, period_floor(period, today) - timedelta(days=1))


def series(
    *,
    session: Session,
    metric: MetricInfo,
    unit: UnitRef,
    period: str,
    starts: list[date],
    segment: Segment,
    min_n: int,
) -> tuple[list[Figure | None], list[Moments | None]]:
    """The metric for ``unit`` in each period (``None`` = gap) and, for CX, the moments."""
    if metric.source == "cx":
        # One pre-aggregated subtree total per period (``engage.cx_periods``).
        buckets = cx_periods.period_moments(
            session=session,
            metric=metric.name,
            unit_id=unit.id,
            grain=period,
            starts=starts,
            dim=segment.dim,
            value=segment.value,
        )
        # Intervals only where they are shown (the last two periods); the trend needs values.
        figures: list[Figure | None] = [
            Figure(rate(metric.cx_kind or "mean", m), m.n) if m is not None and m.n else None
            for m in buckets[:-2]
        ]
        figures += [_cx_figure(metric.name, m, min_n) for m in buckets[-2:]]
        return figures, buckets
    assert metric.metric_id is not None
    values = metric_values(
        session=session,
        metric_id=metric.metric_id,
        unit_id=unit.id,
        granularity=period,
        starts=starts,
    )
    return [Figure(v) if v is not None else None for v in values], [None] * len(starts)


def _cx_figure(name: str, m: Moments | None, min_n: int) -> Figure | None:
    est = cx_metrics.figure(name, m, min_n=min_n)
    if est is None:
        return None
    low = None if math.isnan(est.low) else est.low
    high = None if math.isnan(est.high) else est.high
    return Figure(est.value, est.n, low, high, est.small_sample, est.method)


def change_between(
    metric: MetricInfo,
    before: Figure | None,
    after: Figure | None,
    m_before: Moments | None,
    m_after: Moments | None,
) -> Change | None:
    if before is None or after is None:
        return None
    diff = after.value - before.value
    rel = diff / abs(before.value) if before.value else None
    improved = None if diff == 0 else (diff > 0) == (metric.direction == "higher")
    if metric.source != "cx" or m_before is None or m_after is None or metric.cx_kind is None:
        return Change(diff, rel, improved=improved)
    cmp = compare(metric.cx_kind, m_before, m_after)
    if cmp is None:
        return Change(diff, rel, improved=improved)
    return Change(diff, rel, cmp.low, cmp.high, cmp.p_value, cmp.significant, improved)


def build_scorecard(
    *,
    session: Session,
    unit: UnitRef,
    period: str,
    start: date,
    segment: Segment | None = None,
    min_n: int = 30,
    trend: int = TREND,
) -> Scorecard:
    """The scorecard of ``unit`` (which the caller has checked is in scope)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    start = period_floor(period, start)
    seg = segment or Segment()
    kpis, kpi_unit = kpis_for(session, unit)
    card = Scorecard(unit, kpi_unit, period, start, period_next(period, start), seg)
    if not kpis:
        return card
    starts = period_back(period, start, trend)
    ids = [k.id for k in kpis]
    infos = {k.id: resolve_metric(session, k.metric) for k in kpis}
    totals = frozenset(
        i for i, m in infos.items() if m.source == "metric" and m.aggregation == "sum"
    )
    targets = effective_targets(session, ids, unit, period, start, own_only=totals)
    comments = current_comments(session, ids, unit.id, period, start)
    owners = owner_names(session, {k.owner_user_id for k in kpis if k.owner_user_id})
    for k in kpis:
        info = infos[k.id]
        if k.label:
            info = MetricInfo(**{**info.__dict__, "label": k.label, "label_ja": k.label_ja})
        figures, moments = series(
            session=session,
            metric=info,
            unit=unit,
            period=period,
            starts=starts,
            segment=seg,
            min_n=min_n,
        )
        cur, prev = figures[-1], figures[-2] if len(figures) > 1 else None
        m_cur, m_prev = moments[-1], moments[-2] if len(moments) > 1 else None
        tgt = targets.get(k.id)
        st = status(
            cur.value if cur else None,
            tgt.target if tgt else None,
            tgt.threshold if tgt else None,
            info.direction,
        )
        comment = comments.get(k.id)
        card.cards.append(
            KpiCard(
                kpi_id=k.id,
                metric=info,
                rank=k.rank,
                owner=owners.get(k.owner_user_id) if k.owner_user_id else None,
                current=cur,
                previous=prev,
                change=change_between(info, prev, cur, m_prev, m_cur),
                target=tgt.target if tgt else None,
                threshold=tgt.threshold if tgt else None,
                target_inherited=bool(tgt and tgt.inherited),
                status=st,
                trend=[
                    TrendPoint(s, f.value if f else None)
                    for s, f in zip(starts, figures, strict=True)
                ],
                comment=comment,
                needs_comment=st == "off_track" and comment is None,
            )
        )
    return card
