"""Scorecard API: the scorecard of a unit, KPIs, targets, commentary, why-it-moved, export."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.engage import access
from cxloop.engage.cx_metrics import SEGMENT_DIMS, Segment
from cxloop.engage.exports import SCORECARD_COLUMNS, scorecard_rows, to_csv
from cxloop.engage.hierarchy import UnitRef, children
from cxloop.engage.kpis import (
    KpiCreate,
    KpiUpdate,
    MetricInfo,
    ScorecardError,
    create_kpi,
    kpis_for,
    resolve_metric,
    update_kpi,
)
from cxloop.engage.movers import explain
from cxloop.engage.scorecard import PERIODS, Scorecard, build_scorecard, default_period_start
from cxloop.engage.targets import (
    CommentCreate,
    TargetIn,
    add_comment,
    comment_history,
    set_targets,
)
from cxloop.insight.explain import Decomposition
from cxloop.signals.metrics import period_floor, period_next
from cxloop.store import audit
from cxloop.store.models.scorecard import Kpi, KpiTarget
from cxloop.web.deps import CurrentPrincipal, Principal, SessionDep
from cxloop.web.errors import ApiError
from cxloop.web.i18n import translate

router = APIRouter(tags=["scorecard"])


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except access.NotVisible as exc:
        raise ApiError(404, str(exc), field=exc.field) from None
    except ScorecardError as exc:
        raise ApiError(exc.status, str(exc), field=exc.field) from None


class FigurePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    value: float
    n: int | None
    low: float | None
    high: float | None
    small_sample: bool
    method: str | None


class ChangePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    difference: float
    relative: float | None
    low: float | None
    high: float | None
    p_value: float | None
    significant: bool | None
    improved: bool | None


class TrendPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    start: date
    value: float | None


class CommentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    why: str
    action: str
    author: str
    created_at: datetime


class KpiCardPublic(BaseModel):
    kpi_id: int
    metric: str
    label: str
    unit: str
    direction: str
    rank: int
    owner: str | None
    current: FigurePublic | None
    previous: FigurePublic | None
    change: ChangePublic | None
    target: float | None
    threshold: float | None
    target_inherited: bool
    status: str
    trend: list[TrendPublic]
    comment: CommentPublic | None
    needs_comment: bool


class UnitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    name_ja: str | None
    kind: str


class ScorecardPublic(BaseModel):
    unit: UnitPublic
    kpi_unit_id: int | None
    period: str
    start: date
    end: date
    segment: dict[str, str] | None
    kpis: list[KpiCardPublic]


def label_of(card_metric_label: str, label_ja: str | None, lang: str) -> str:
    if lang == "ja" and label_ja:
        return label_ja
    return (
        translate(card_metric_label, lang)
        if card_metric_label.startswith("scorecard.")
        else (card_metric_label)
    )


def scorecard_public(card: Scorecard, lang: str) -> ScorecardPublic:
    kpis = [
        KpiCardPublic(
            kpi_id=c.kpi_id,
            metric=c.metric.ref,
            label=label_of(c.metric.label, c.metric.label_ja, lang),
            unit=c.metric.unit,
            direction=c.metric.direction,
            rank=c.rank,
            owner=c.owner,
            current=FigurePublic.model_validate(c.current) if c.current else None,
            previous=FigurePublic.model_validate(c.previous) if c.previous else None,
            change=ChangePublic.model_validate(c.change) if c.change else None,
            target=c.target,
            threshold=c.threshold,
            target_inherited=c.target_inherited,
            status=c.status,
            trend=[TrendPublic.model_validate(t) for t in c.trend],
            comment=CommentPublic.model_validate(c.comment) if c.comment else None,
            needs_comment=c.needs_comment,
        )
        for c in card.cards
    ]
    seg = {"dim": card.segment.dim, "value": card.segment.value} if card.segment.dim else None
    return ScorecardPublic(
        unit=UnitPublic.model_validate(card.unit),
        kpi_unit_id=card.kpi_unit_id,
        period=card.period,
        start=card.start,
        end=card.end,
        segment=seg,
        kpis=kpis,
    )


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
    with _errors():
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
    name = f"scorecard-{card.unit.code}-{card.start.isoformat()}.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class KpiPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    metric: str
    label: str | None
    label_ja: str | None
    rank: int
    owner_user_id: int | None


@router.get("/scorecard/kpis")
def list_kpis(
    principal: CurrentPrincipal, session: SessionDep, unit_id: int | None = None
) -> list[KpiPublic]:
    """The KPIs a unit follows (its own or inherited from the nearest ancestor)."""
    principal.require("scorecard:read")
    with _errors():
        unit = access.visible_unit(session, principal.scope, unit_id)
    return [KpiPublic.model_validate(k) for k in kpis_for(session, unit)[0]]


@router.post("/scorecard/kpis", status_code=201)
def add_kpi(body: KpiCreate, principal: CurrentPrincipal, session: SessionDep) -> KpiPublic:
    principal.require("scorecard:write")
    with _errors():
        access.visible_unit(session, principal.scope, body.org_unit_id, field="org_unit_id")
        return KpiPublic.model_validate(create_kpi(session=session, data=body))


@router.patch("/scorecard/kpis/{kpi_id}")
def change_kpi(
    kpi_id: int, body: KpiUpdate, principal: CurrentPrincipal, session: SessionDep
) -> KpiPublic:
    principal.require("scorecard:write")
    with _errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
        return KpiPublic.model_validate(update_kpi(session=session, kpi=kpi, data=body))


@router.delete("/scorecard/kpis/{kpi_id}", status_code=204)
def remove_kpi(kpi_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require("scorecard:write")
    with _errors():
        kpi = access.editable_kpi(session, principal.scope, kpi_id)
    audit.record(
        session,
        principal.actor,
        "delete",
        target_type="kpi",
        target_id=kpi.id,
        org_unit_id=kpi.org_unit_id,
        metric=kpi.metric,
    )
    session.delete(kpi)
    return Response(status_code=204)


class TargetsSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[TargetIn]


class TargetPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    org_unit_id: int
    period: str
    period_start: date
    target: float
    threshold: float | None


def _set_targets(
    kpi_id: int, body: TargetsSet, principal: Principal, session: SessionDep, replace: bool
) -> dict[str, int]:
    principal.require("scorecard:write")
    with _errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        for i, t in enumerate(body.targets):
            unit = access.visible_unit(
                session, principal.scope, t.org_unit_id, field=f"targets[{i}].org_unit_id"
            )
            access.check_applies(session, kpi, unit, field=f"targets[{i}].org_unit_id")
        direction = resolve_metric(session, kpi.metric).direction
        report = set_targets(
            session=session, kpi=kpi, direction=direction, targets=body.targets, replace=replace
        )
    return {"created": report.created, "updated": report.updated}


@router.put("/scorecard/kpis/{kpi_id}/targets")
def put_targets(
    kpi_id: int, body: TargetsSet, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, int]:
    """Set targets, replacing any for the same unit and period."""
    return _set_targets(kpi_id, body, principal, session, replace=True)


@router.post("/scorecard/kpis/{kpi_id}/targets", status_code=201)
def post_targets(
    kpi_id: int, body: TargetsSet, principal: CurrentPrincipal, session: SessionDep
) -> dict[str, int]:
    """Add targets; one that already exists for the unit and period is a conflict (409)."""
    return _set_targets(kpi_id, body, principal, session, replace=False)


@router.get("/scorecard/kpis/{kpi_id}/targets")
def get_targets(
    kpi_id: int, principal: CurrentPrincipal, session: SessionDep
) -> list[TargetPublic]:
    principal.require("scorecard:read")
    with _errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
    rows = session.scalars(
        select(KpiTarget)
        .where(KpiTarget.kpi_id == kpi.id, principal.scope.condition(KpiTarget.org_unit_id))
        .order_by(KpiTarget.period_start, KpiTarget.org_unit_id)
    )
    return [TargetPublic.model_validate(r) for r in rows]


def _unit_for(
    session: SessionDep, principal: Principal, kpi_id: int, unit_id: int | None
) -> tuple[Kpi, UnitRef]:
    kpi = access.visible_kpi(session, principal.scope, kpi_id)
    unit = access.visible_unit(session, principal.scope, unit_id)
    access.check_applies(session, kpi, unit, field="unit_id")
    return kpi, unit


@router.post("/scorecard/kpis/{kpi_id}/comments", status_code=201)
def post_comment(
    kpi_id: int, body: CommentCreate, principal: CurrentPrincipal, session: SessionDep
) -> CommentPublic:
    """Add a version of the commentary for a unit and period (edits keep history)."""
    principal.require("scorecard:write")
    with _errors():
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        unit = access.visible_unit(session, principal.scope, body.org_unit_id, field="org_unit_id")
        access.check_applies(session, kpi, unit)
        user = principal.user
        row = add_comment(
            session=session,
            kpi=kpi,
            data=body,
            author_user_id=user.id if user else None,
            author=user.name if user else principal.actor.label,
        )
    return CommentPublic(
        version=row.version,
        why=row.why,
        action=row.action,
        author=row.author_label,
        created_at=row.created_at,
    )


@router.get("/scorecard/kpis/{kpi_id}/comments")
def get_comments(
    kpi_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    start: date,
    unit_id: int | None = None,
    period: str = "month",
) -> list[CommentPublic]:
    """Every version of the commentary, newest first."""
    principal.require("scorecard:read")
    with _errors():
        kpi, unit = _unit_for(session, principal, kpi_id, unit_id)
    history = comment_history(session, kpi.id, unit.id, period, period_floor(period, start))
    return [CommentPublic.model_validate(c) for c in history]


class ContributionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    segment: str
    share_before: float
    share_after: float
    rate_before: float
    rate_after: float
    mix: float
    rate: float


class DecompositionPublic(BaseModel):
    before: float
    after: float
    mix: float
    rate: float
    segments: list[ContributionPublic]


class ThemeShiftPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    theme: str
    share_before: float
    share_after: float
    change: float
    p_value: float
    significant: bool


class ExplanationPublic(BaseModel):
    by_unit: DecompositionPublic | None
    by_segment: dict[str, DecompositionPublic]
    themes: list[ThemeShiftPublic]


def _decomp(d: Decomposition, names: dict[str, str] | None = None) -> DecompositionPublic:
    segs = [ContributionPublic.model_validate(s) for s in d.segments]
    if names:
        for s in segs:
            s.segment = names.get(s.segment, s.segment)
    return DecompositionPublic(
        before=d.before,
        after=d.after,
        mix=d.mix,
        rate=d.rate,
        segments=segs,
    )


@router.get("/scorecard/kpis/{kpi_id}/explain")
def explain_kpi(
    kpi_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: date | None = None,
) -> ExplanationPublic:
    """Why the KPI moved from the previous period: mix vs rate, and theme shifts."""
    principal.require("scorecard:read")
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    with _errors():
        kpi, unit = _unit_for(session, principal, kpi_id, unit_id)
        metric = resolve_metric(session, kpi.metric)
    got = explain_between(session, metric, unit, period, start, principal.language)
    return got


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
    )
    return ExplanationPublic(
        by_unit=_decomp(got.by_unit, got.unit_names) if got.by_unit else None,
        by_segment={k: _decomp(v) for k, v in got.by_segment.items()},
        themes=[ThemeShiftPublic.model_validate(t) for t in got.themes],
    )
