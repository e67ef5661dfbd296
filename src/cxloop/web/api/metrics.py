"""Metrics API: definitions, points (import), series with gaps, CX figures by segment."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cxloop.engage import cx_metrics
from cxloop.engage.access import NotVisible, visible_unit
from cxloop.engage.cx_metrics import SEGMENT_DIMS, Segment
from cxloop.engage.cx_sources import SOURCES, available
from cxloop.engage.cx_stats import compare
from cxloop.engage.hierarchy import metric_values
from cxloop.engage.scorecard import PERIODS
from cxloop.signals.metrics import (
    MetricDefinitionCreate,
    period_back,
    period_floor,
    period_next,
)
from cxloop.signals.metrics import upsert_definition as _upsert_definition
from cxloop.signals.metrics_import import import_rows
from cxloop.store.models.metrics import MetricDefinition, MetricPoint
from cxloop.store.scope import Scope, scoped_page
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep, SettingsDep
from cxloop.web.errors import ApiError, NotFound
from cxloop.web.schemas import Page

router = APIRouter(tags=["metrics"])


class MetricDefinitionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    key: str
    name: str
    name_ja: str | None
    unit: str
    direction: str
    aggregation: str
    description: str


class PointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    metric: str
    unit: str = Field(description="org-unit code")
    period: str = "month"
    period_start: date
    value: float


class PointsCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: list[PointCreate] = Field(max_length=10_000)


class ImportReportPublic(BaseModel):
    rows: int
    inserted: int
    updated: int
    unchanged: int
    defined: list[str]
    duplicates: list[str]
    errors: list[str]


class PointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    metric_id: int
    org_unit_id: int
    period: str
    period_start: date
    value: float
    source: str
    updated_at: datetime


class SeriesPoint(BaseModel):
    period_start: date
    value: float | None


class SeriesPublic(BaseModel):
    metric: str
    unit_id: int
    period: str
    points: list[SeriesPoint]


class CxFigurePublic(BaseModel):
    key: str | None
    value: float | None
    low: float | None
    high: float | None
    n: int
    small_sample: bool
    method: str | None


class CxComparisonPublic(BaseModel):
    a: str
    b: str
    difference: float
    low: float
    high: float
    p_value: float
    significant: bool
    method: str


class CxSegmentsPublic(BaseModel):
    metric: str
    unit_id: int
    start: date
    end: date
    dim: str | None
    figures: list[CxFigurePublic]
    comparison: CxComparisonPublic | None


def _unit(session: Any, scope: Scope, unit_id: int | None) -> Any:
    try:
        return visible_unit(session, scope, unit_id)
    except NotVisible as exc:
        raise ApiError(404, str(exc), field=exc.field) from None


@router.get("/metrics/definitions")
def list_definitions(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[MetricDefinitionPublic]:
    principal.require("metrics:read")
    rows = session.scalars(select(MetricDefinition).order_by(MetricDefinition.key)).all()
    data = [MetricDefinitionPublic.model_validate(r) for r in rows]
    return Page(
        data=data[page.offset : page.offset + page.limit],
        count=len(data),
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/metrics/definitions", status_code=201)
def upsert_definition(
    body: MetricDefinitionCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
) -> MetricDefinitionPublic:
    principal.require("metrics:write")
    owner = _unit(session, principal.scope, None)
    row, created = _upsert_definition(session=session, data=body, owner_unit_id=owner.id)
    if not created:
        response.status_code = 200
    return MetricDefinitionPublic.model_validate(row)


@router.post("/metrics/points")
def import_points(
    body: PointsCreate, principal: CurrentPrincipal, session: SessionDep
) -> ImportReportPublic:
    """Upsert points on (metric, unit, period, start); all-or-nothing for a batch."""
    principal.require("metrics:write")
    owner = _unit(session, principal.scope, None)
    rows = [{"_row": i, **p.model_dump()} for i, p in enumerate(body.points)]
    report = import_rows(
        session=session, rows=rows, scope=principal.scope, owner_unit_id=owner.id, source="api"
    )
    if report.errors:
        index, _, message = report.errors[0].removeprefix("row ").partition(": ")
        field = f"points[{index}].{report.error_fields[0] or 'value'}"
        raise ApiError(422, f"{field}: {message}", field=field)
    return ImportReportPublic(**report.__dict__)


@router.get("/metrics/points")
def list_points(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    metric: str,
    unit_id: int | None = None,
) -> Page[PointPublic]:
    principal.require("metrics:read")
    definition = session.scalar(select(MetricDefinition).where(MetricDefinition.key == metric))
    if definition is None:
        raise NotFound("metric")
    filters = [MetricPoint.metric_id == definition.id]
    if unit_id is not None:
        filters.append(MetricPoint.org_unit_id == _unit(session, principal.scope, unit_id).id)
    rows, count = scoped_page(
        session,
        principal.scope,
        MetricPoint,
        filters=filters,
        order_by=MetricPoint.period_start,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        data=[PointPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/metrics/series")
def series(
    principal: CurrentPrincipal,
    session: SessionDep,
    metric: str,
    unit_id: int | None = None,
    period: str = "month",
    end: date | None = None,
    count: Annotated[int, Query(ge=1, le=120)] = 12,
) -> SeriesPublic:
    """The metric for a unit, one value per period; ``null`` marks a gap (no data)."""
    principal.require("metrics:read")
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    unit = _unit(session, principal.scope, unit_id)
    definition = session.scalar(select(MetricDefinition).where(MetricDefinition.key == metric))
    if definition is None:
        raise ApiError(404, f"metric {metric!r} not found", field="metric")
    last = period_floor(period, end or date.today())
    starts = period_back(period, last, count)
    values = metric_values(
        session=session,
        metric_id=definition.id,
        unit_id=unit.id,
        granularity=period,
        starts=starts,
    )
    points = [SeriesPoint(period_start=s, value=v) for s, v in zip(starts, values, strict=True)]
    return SeriesPublic(metric=metric, unit_id=unit.id, period=period, points=points)


@router.get("/metrics/cx")
def cx_figures(
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    metric: str = "nps",
    unit_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    dim: str | None = None,
    a: str | None = None,
    b: str | None = None,
    min_n: Annotated[int, Query(ge=1, le=10_000)] = 30,
) -> CxSegmentsPublic:
    """A CX figure with n and interval, overall or per segment of ``dim``; with ``a`` and
    ``b`` the difference between those two segments is tested."""
    principal.require("metrics:read")
    if metric not in SOURCES:
        raise ApiError(422, f"metric must be one of {', '.join(sorted(SOURCES))}", field="metric")
    if dim is not None and dim not in SEGMENT_DIMS:
        raise ApiError(422, f"dim must be one of {', '.join(SEGMENT_DIMS)}", field="dim")
    unit = _unit(session, principal.scope, unit_id)
    stop = end or period_next("month", period_floor("month", date.today()))
    begin = start or period_floor("month", date.today())
    if begin >= stop:
        raise ApiError(422, "start must be before end", field="start")
    scope = Scope((unit.path,))
    got = cx_metrics.moments(
        session=session,
        scope=scope,
        metric=metric,
        start=begin,
        end=stop,
        group="segment" if dim else "total",
        compare_dim=dim,
        segment=Segment(),
    )
    figures = []
    for key, m in sorted(got.items(), key=lambda kv: str(kv[0])):
        est = cx_metrics.figure(metric, m, min_n=min_n)
        assert est is not None
        figures.append(
            CxFigurePublic(
                key=key,
                value=est.value,
                low=_num(est.low),
                high=_num(est.high),
                n=est.n,
                small_sample=est.small_sample,
                method=est.method,
            )
        )
    comparison = None
    if dim and a is not None and b is not None:
        if a not in got or b not in got:
            missing = a if a not in got else b
            raise ApiError(
                422, f"segment {missing!r} has no data", field="a" if missing == a else "b"
            )
        cmp = compare(SOURCES[metric].kind, got[a], got[b])
        if cmp is not None:
            comparison = CxComparisonPublic(
                a=a,
                b=b,
                difference=cmp.difference,
                low=cmp.low,
                high=cmp.high,
                p_value=cmp.p_value,
                significant=cmp.significant,
                method=cmp.method,
            )
    return CxSegmentsPublic(
        metric=metric,
        unit_id=unit.id,
        start=begin,
        end=stop,
        dim=dim,
        figures=figures,
        comparison=comparison,
    )


@router.get("/metrics/cx/available")
def cx_available(principal: CurrentPrincipal) -> list[str]:
    """CX figures whose source area is installed."""
    principal.require("metrics:read")
    return [s.name for s in available()]


def _num(x: float) -> float | None:
    return None if x != x else x
