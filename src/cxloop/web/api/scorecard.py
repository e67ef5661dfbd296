"""Scorecard API: the scorecard of a unit, its drill-down, segments and CSV exports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from cxloop.csv_export import csv_download, to_csv
from cxloop.engage import access
from cxloop.engage.cx_metrics import SEGMENT_DIMS, Segment
from cxloop.engage.exports import (
    SCORECARD_COLUMNS,
    SEGMENT_COLUMNS,
    scorecard_rows,
    segment_rows,
)
from cxloop.engage.hierarchy import UnitRef, children
from cxloop.engage.kpis import (
    MetricInfo,
)
from cxloop.engage.movers import explain
from cxloop.engage.scorecard import PERIODS, Scorecard, build_scorecard, default_period_start
from cxloop.engage.segments import SegmentFigure, compare_segments
from cxloop.signals.metrics import period_floor, period_next
from cxloop.store import audit
from cxloop.web.api._scorecard_schemas import (
    ExplanationPublic,
    ScorecardPublic,
    SegmentPublic,
    ThemeShiftPublic,
    decomp,
    errors,
    label_of,
    scorecard_public,
)
from cxloop.web.deps import CurrentPrincipal, Principal, SessionDep
from cxloop.web.errors import ApiError

router = APIRouter(tags=["scorecard"])


def load_scorecard(
    session: SessionDep,
    principal: Principal,
    unit_id: int | None,
    period: str,
    start: date | None,
    dim: str | None,
    value: str | None,
    min_n: int,
) -> Scorecard:
    """Shared by the API and the pages: validate the query, check scope, build."""
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    if dim is not None and dim not in SEGMENT_DIMS:
        raise ApiError(422, f"segment must be one of {', '.join(SEGMENT_DIMS)}", field="segment")
    if dim and not value:
        raise ApiError(422, "give the segment value too", field="segment_value")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id)
    begin = period_floor(period, start) if start else default_period_start(period, date.today())
    return build_scorecard(
        session=session,
        unit=unit,
        period=period,
        start=begin,
        segment=Segment(dim or "", value or ""),
        min_n=min_n,
    )


@router.get("/scorecard")
def get_scorecard(
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
    segment: str | None = None,
    segment_value: str | None = None,
    min_n: Annotated[int, Query(ge=1, le=10_000)] = 30,
) -> ScorecardPublic:
    principal.require("scorecard:read")
    card = load_scorecard(session, principal, unit_id, period, start, segment, segment_value, min_n)
    return scorecard_public(card, principal.language)


@router.get("/scorecard/drilldown")
def drilldown(
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
    min_n: Annotated[int, Query(ge=1, le=10_000)] = 30,
) -> list[ScorecardPublic]:
    """The scorecard of each child unit (company → regions → stores / teams)."""
    principal.require("scorecard:read")
    parent = load_scorecard(session, principal, unit_id, period, start, None, None, min_n)
    return [
        scorecard_public(
            build_scorecard(
                session=session, unit=kid, period=period, start=parent.start, min_n=min_n, trend=2
            ),
            principal.language,
        )
        for kid in children(session, parent.unit.id)
    ]


@router.get("/scorecard/export.csv", response_class=Response)
def export_scorecard(
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
    segment: str | None = None,
    segment_value: str | None = None,
) -> Response:
    principal.require("scorecard:read")
    principal.require("export")
    card = load_scorecard(session, principal, unit_id, period, start, segment, segment_value, 30)
    labels = {
        c.metric.ref: label_of(c.metric.label, c.metric.label_ja, principal.language)
        for c in card.cards
    }
    body = to_csv(SCORECARD_COLUMNS, scorecard_rows(card, labels))
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="scorecard",
        org_unit_id=card.unit.id,
        rows=len(card.cards),
        period=card.start.isoformat(),
    )
    return csv_download(body, f"scorecard-{card.unit.code}-{card.start.isoformat()}.csv")


@router.get("/scorecard/drilldown.csv", response_class=Response)
def export_drilldown(
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
) -> Response:
    """The drill-down table: one row per child unit and KPI (audited like every export)."""
    principal.require("scorecard:read")
    principal.require("export")
    parent = load_scorecard(session, principal, unit_id, period, start, None, None, 30)
    rows: list[list[object]] = []
    for kid in children(session, parent.unit.id):
        card = build_scorecard(session=session, unit=kid, period=period, start=parent.start)
        labels = {
            c.metric.ref: label_of(c.metric.label, c.metric.label_ja, principal.language)
            for c in card.cards
        }
        rows += scorecard_rows(card, labels)
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="scorecard_drilldown",
        org_unit_id=parent.unit.id,
        rows=len(rows),
        period=parent.start.isoformat(),
    )
    return csv_download(
        to_csv(SCORECARD_COLUMNS, rows),
        f"scorecard-drilldown-{parent.unit.code}-{parent.start.isoformat()}.csv",
    )


def segments_for(
    session: Session,
    principal: Principal,
    unit_id: int | None,
    period: str,
    start: date | None,
    dim: str,
    min_n: int,
) -> tuple[UnitRef, date, list[SegmentFigure]]:
    if dim not in SEGMENT_DIMS:
        raise ApiError(422, f"segment must be one of {', '.join(SEGMENT_DIMS)}", field="segment")
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    with errors():
        unit = access.visible_unit(session, principal.scope, unit_id)
    begin = period_floor(period, start) if start else default_period_start(period, date.today())
    got = compare_segments(
        session=session, unit=unit, period=period, start=begin, dim=dim, min_n=min_n
    )
    return unit, begin, got


@router.get("/scorecard/segments")
def segments(
    principal: CurrentPrincipal,
    session: SessionDep,
    segment: str,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
    min_n: Annotated[int, Query(ge=1, le=10_000)] = 30,
) -> list[SegmentPublic]:
    """Each CX KPI per value of a customer segment, tested against the other customers."""
    principal.require("scorecard:read")
    _, _, got = segments_for(session, principal, unit_id, period, start, segment, min_n)
    lang = principal.language
    return [
        SegmentPublic(
            metric=f.metric.ref,
            label=label_of(f.metric.label, f.metric.label_ja, lang),
            value=f.value,
            n=f.n,
            estimate=f.estimate,
            low=f.low,
            high=f.high,
            small_sample=f.small_sample,
            vs_rest=f.vs_rest,
            vs_rest_p_value=f.vs_rest_p,
            vs_rest_significant=f.vs_rest_significant,
        )
        for f in got
    ]


@router.get("/scorecard/segments.csv", response_class=Response)
def export_segments(
    principal: CurrentPrincipal,
    session: SessionDep,
    segment: str,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
) -> Response:
    principal.require("scorecard:read")
    principal.require("export")
    unit, begin, got = segments_for(session, principal, unit_id, period, start, segment, 30)
    labels = {
        f.metric.ref: label_of(f.metric.label, f.metric.label_ja, principal.language) for f in got
    }
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="scorecard_segments",
        org_unit_id=unit.id,
        rows=len(got),
        period=begin.isoformat(),
    )
    body = to_csv(SEGMENT_COLUMNS, segment_rows(unit.code, begin.isoformat(), segment, got, labels))
    return csv_download(body, f"scorecard-segments-{unit.code}-{segment}-{begin.isoformat()}.csv")


def explain_between(
    session: Session,
    metric: MetricInfo,
    unit: UnitRef,
    period: str,
    start: date | None,
    lang: str,
) -> ExplanationPublic:
    begin = period_floor(period, start) if start else default_period_start(period, date.today())
    prev = period_floor(period, date.fromordinal(begin.toordinal() - 1))
    got = explain(
        session=session,
        metric=metric,
        unit=unit,
        before=(prev, begin),
        after=(begin, period_next(period, begin)),
        lang=lang,
        grain=period,
    )
    return ExplanationPublic(
        by_unit=decomp(got.by_unit, got.unit_names) if got.by_unit else None,
        by_segment={k: decomp(v) for k, v in got.by_segment.items()},
        themes=[ThemeShiftPublic.model_validate(t) for t in got.themes],
    )
