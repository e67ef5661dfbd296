"""KPI targets per unit and period (inherited from the parent unit), status, commentary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cxloop.engage.hierarchy import UnitRef
from cxloop.engage.kpis import ScorecardError
from cxloop.signals.metrics import MetricError, check_point
from cxloop.store.models.scorecard import Kpi, KpiComment, KpiTarget

STATUSES = ("on_track", "at_risk", "off_track", "no_target", "no_data")


def status(
    value: float | None, target: float | None, threshold: float | None, direction: str
) -> str:
    """``on_track`` when the target is met (equal counts as met); ``at_risk`` between the
    target and the threshold (the threshold itself is still at risk); ``off_track`` beyond."""
    if value is None:
        return "no_data"
    if target is None:
        return "no_target"
    limit = target if threshold is None else threshold
    if direction == "higher":
        if value >= target:
            return "on_track"
        return "at_risk" if value >= limit and threshold is not None else "off_track"
    if value <= target:
        return "on_track"
    return "at_risk" if value <= limit and threshold is not None else "off_track"


def check_threshold(target: float, threshold: float | None, direction: str) -> None:
    if threshold is None:
        return
    if direction == "higher" and threshold > target:
        raise ScorecardError(
            f"threshold {threshold:g} is above the target {target:g}; higher is better for this "
            "KPI, so the off-track threshold must be at or below the target",
            field="threshold",
        )
    if direction == "lower" and threshold < target:
        raise ScorecardError(
            f"threshold {threshold:g} is below the target {target:g}; lower is better for this "
            "KPI, so the off-track threshold must be at or above the target",
            field="threshold",
        )


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_unit_id: int
    period: str = "month"
    period_start: date
    target: float
    threshold: float | None = None


@dataclass
class TargetReport:
    created: int = 0
    updated: int = 0


def set_targets(
    *, session: Session, kpi: Kpi, direction: str, targets: list[TargetIn], replace: bool = True
) -> TargetReport:
    """Validate all targets first (nothing is written if one is bad), then upsert them.

    Two targets for the same unit and period in one request conflict; with
    ``replace=False`` an existing target conflicts too.
    """
    seen: dict[tuple[int, str, date], int] = {}
    for i, t in enumerate(targets):
        where = f"targets[{i}]"
        try:
            check_point(t.period, t.period_start, t.target)
        except MetricError as exc:
            raise ScorecardError(f"{where}: {exc}", field=f"{where}.{exc.field}") from None
        try:
            check_threshold(t.target, t.threshold, direction)
        except ScorecardError as exc:
            raise ScorecardError(f"{where}: {exc}", field=f"{where}.threshold") from None
        key = (t.org_unit_id, t.period, t.period_start)
        if key in seen:
            raise ScorecardError(
                f"{where} conflicts with targets[{seen[key]}]: two targets for unit "
                f"{t.org_unit_id}, {t.period} {t.period_start}",
                field=f"{where}.period_start",
                status=409,
            )
        seen[key] = i
    report = TargetReport()
    for i, t in enumerate(targets):
        row = session.scalar(
            select(KpiTarget).where(
                KpiTarget.kpi_id == kpi.id,
                KpiTarget.org_unit_id == t.org_unit_id,
                KpiTarget.period == t.period,
                KpiTarget.period_start == t.period_start,
            )
        )
        if row is not None and not replace:
            raise ScorecardError(
                f"targets[{i}] conflicts with the existing target {row.target:g} for unit "
                f"{t.org_unit_id}, {t.period} {t.period_start}; use PUT to replace it",
                field=f"targets[{i}].period_start",
                status=409,
            )
        if row is None:
            row = KpiTarget(
                kpi_id=kpi.id,
                org_unit_id=t.org_unit_id,
                period=t.period,
                period_start=t.period_start,
            )
            session.add(row)
            report.created += 1
        else:
            report.updated += 1
        row.target, row.threshold = t.target, t.threshold
    session.flush()
    return report


@dataclass(frozen=True)
class EffectiveTarget:
    target: float
    threshold: float | None
    unit_id: int
    inherited: bool


def effective_targets(
    session: Session,
    kpi_ids: list[int],
    unit: UnitRef,
    period: str,
    period_start: date,
    own_only: frozenset[int] = frozenset(),
) -> dict[int, EffectiveTarget]:
    """Per KPI, the target of ``unit`` for the period, else of its nearest ancestor.

    KPIs in ``own_only`` (totals such as revenue: a store's share of the company's figure
    is not the company's target) take only the unit's own target."""
    ids = unit.ancestor_ids
    rows = session.scalars(
        select(KpiTarget).where(
            KpiTarget.kpi_id.in_(kpi_ids),
            KpiTarget.org_unit_id.in_(ids),
            KpiTarget.period == period,
            KpiTarget.period_start == period_start,
        )
    ).all()
    out: dict[int, EffectiveTarget] = {}
    for kpi_id in kpi_ids:
        mine = {r.org_unit_id: r for r in rows if r.kpi_id == kpi_id}
        for uid in ids[:1] if kpi_id in own_only else ids:
            if uid in mine:
                r = mine[uid]
                out[kpi_id] = EffectiveTarget(r.target, r.threshold, uid, uid != unit.id)
                break
    return out


# --- commentary -------------------------------------------------------------------------


class CommentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_unit_id: int
    period: str = "month"
    period_start: date
    why: str = Field("", max_length=4000)
    action: str = Field("", max_length=4000)


@dataclass(frozen=True)
class CommentView:
    version: int
    why: str
    action: str
    author: str
    created_at: datetime


def add_comment(
    *, session: Session, kpi: Kpi, data: CommentCreate, author_user_id: int | None, author: str
) -> KpiComment:
    """A new version of the commentary; earlier versions stay as history."""
    try:
        check_point(data.period, data.period_start, 0.0)
    except MetricError as exc:
        raise ScorecardError(str(exc), field=exc.field) from None
    if not data.why.strip() and not data.action.strip():
        raise ScorecardError(
            "write why the number is what it is, or what is being done", field="why"
        )
    last = session.scalar(
        select(func.max(KpiComment.version)).where(
            KpiComment.kpi_id == kpi.id,
            KpiComment.org_unit_id == data.org_unit_id,
            KpiComment.period == data.period,
            KpiComment.period_start == data.period_start,
        )
    )
    row = KpiComment(
        kpi_id=kpi.id,
        org_unit_id=data.org_unit_id,
        period=data.period,
        period_start=data.period_start,
        version=(last or 0) + 1,
        why=data.why.strip(),
        action=data.action.strip(),
        author_user_id=author_user_id,
        author_label=author,
    )
    session.add(row)
    session.flush()
    return row


def comment_history(
    session: Session, kpi_id: int, unit_id: int, period: str, period_start: date
) -> list[CommentView]:
    """Every version, newest first."""
    rows = session.scalars(
        select(KpiComment)
        .where(
            KpiComment.kpi_id == kpi_id,
            KpiComment.org_unit_id == unit_id,
            KpiComment.period == period,
            KpiComment.period_start == period_start,
        )
        .order_by(KpiComment.version.desc())
    )
    return [_view(r) for r in rows]


def current_comments(
    session: Session, kpi_ids: list[int], unit_id: int, period: str, period_start: date
) -> dict[int, CommentView]:
    """The latest version per KPI for one unit and period."""
    rows = session.scalars(
        select(KpiComment)
        .where(
            KpiComment.kpi_id.in_(kpi_ids),
            KpiComment.org_unit_id == unit_id,
            KpiComment.period == period,
            KpiComment.period_start == period_start,
        )
        .order_by(KpiComment.version)
    )
    return {r.kpi_id: _view(r) for r in rows}


def _view(r: KpiComment) -> CommentView:
    return CommentView(r.version, r.why, r.action, r.author_label, r.created_at)
