"""Response and request schemas of the scorecard API, and its error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from cxloop.engage import access
from cxloop.engage.kpis import (
    ScorecardError,
)
from cxloop.engage.scorecard import Scorecard
from cxloop.engage.targets import (
    TargetIn,
)
from cxloop.insight.explain import Decomposition
from cxloop.web.errors import ApiError
from cxloop.web.i18n import translate


@contextmanager
def errors() -> Iterator[None]:
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


class KpiPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    metric: str
    label: str | None
    label_ja: str | None
    rank: int
    owner_user_id: int | None


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


def decomp(d: Decomposition, names: dict[str, str] | None = None) -> DecompositionPublic:
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


class SegmentPublic(BaseModel):
    metric: str
    label: str
    value: str
    n: int
    estimate: float
    low: float | None
    high: float | None
    small_sample: bool
    vs_rest: float | None
    vs_rest_p_value: float | None
    vs_rest_significant: bool | None
