"""CSV exports of scorecard tables (cells that could run as spreadsheet formulas are defused)."""

from __future__ import annotations

from cxloop.engage.scorecard import KpiCard, Scorecard
from cxloop.engage.segments import SegmentFigure

SCORECARD_COLUMNS = (
    "unit",
    "period_start",
    "rank",
    "kpi",
    "metric",
    "unit_of_measure",
    "direction",
    "value",
    "low",
    "high",
    "n",
    "small_sample",
    "previous",
    "change",
    "p_value",
    "significant",
    "target",
    "threshold",
    "target_inherited",
    "status",
    "needs_comment",
    "owner",
    "why",
    "action",
)


def scorecard_rows(card: Scorecard, labels: dict[str, str]) -> list[list[object]]:
    return [_row(card, c, labels) for c in card.cards]


def _row(card: Scorecard, c: KpiCard, labels: dict[str, str]) -> list[object]:
    cur, prev, ch = c.current, c.previous, c.change
    return [
        card.unit.code,
        card.start.isoformat(),
        c.rank,
        labels.get(c.metric.ref, c.metric.label),
        c.metric.ref,
        c.metric.unit,
        c.metric.direction,
        cur.value if cur else None,
        cur.low if cur else None,
        cur.high if cur else None,
        cur.n if cur else None,
        cur.small_sample if cur else None,
        prev.value if prev else None,
        ch.difference if ch else None,
        ch.p_value if ch else None,
        ch.significant if ch else None,
        c.target,
        c.threshold,
        c.target_inherited,
        c.status,
        c.needs_comment,
        c.owner,
        c.comment.why if c.comment else None,
        c.comment.action if c.comment else None,
    ]


SEGMENT_COLUMNS = (
    "unit",
    "period_start",
    "segment",
    "segment_value",
    "kpi",
    "metric",
    "n",
    "value",
    "low",
    "high",
    "small_sample",
    "vs_rest",
    "vs_rest_p_value",
    "vs_rest_significant",
)


def segment_rows(
    unit_code: str, start: str, dim: str, figures: list[SegmentFigure], labels: dict[str, str]
) -> list[list[object]]:
    return [
        [
            unit_code,
            start,
            dim,
            f.value,
            labels.get(f.metric.ref, f.metric.label),
            f.metric.ref,
            f.n,
            f.estimate,
            f.low,
            f.high,
            f.small_sample,
            f.vs_rest,
            f.vs_rest_p,
            f.vs_rest_significant,
        ]
        for f in figures
    ]
