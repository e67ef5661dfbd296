"""Why a KPI moved: mix against rate by child unit and by customer segment, and the
feedback themes whose share changed most."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from cxloop.engage import cx_metrics, cx_periods
from cxloop.engage.cx_metrics import SEGMENT_DIMS, Segment
from cxloop.engage.cx_stats import Moments, rate
from cxloop.engage.hierarchy import UnitRef, children
from cxloop.engage.kpis import MetricInfo
from cxloop.insight.explain import Decomposition, ThemeShift, decompose_change, theme_shifts
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope


@dataclass(frozen=True)
class Explanation:
    by_unit: Decomposition | None
    by_segment: dict[str, Decomposition]
    themes: list[ThemeShift]
    unit_names: dict[str, str]


def _decompose(
    labels: list[str], before: dict[Any, Moments], after: dict[Any, Moments], kind: str
) -> Decomposition | None:
    keys = [k for k in labels if k in before or k in after]
    if not keys:
        return None
    w0 = [before[k].n if k in before else 0 for k in keys]
    w1 = [after[k].n if k in after else 0 for k in keys]
    if sum(w0) == 0 or sum(w1) == 0:
        return None
    nan = float("nan")
    r0 = [rate(kind, before[k]) if k in before else nan for k in keys]
    r1 = [rate(kind, after[k]) if k in after else nan for k in keys]
    return decompose_change([str(k) for k in keys], w0, r0, w1, r1)


def explain(
    *,
    session: Session,
    metric: MetricInfo,
    unit: UnitRef,
    before: tuple[date, date],
    after: tuple[date, date],
    lang: str = "en",
    grain: str | None = None,
) -> Explanation:
    """Decompose the change of a CX KPI between two periods (operational metrics have no
    per-response weights, so only their theme shifts are given).

    With ``grain`` (week, month, quarter: the spans are whole periods of it) the children's
    and segments' figures are read from the period totals, a row per child or segment value,
    instead of summing day rows of the whole subtree."""
    scope = Scope((unit.path,))
    by_unit: Decomposition | None = None
    by_segment: dict[str, Decomposition] = {}
    names: dict[str, str] = {}
    if metric.source == "cx" and metric.cx_kind is not None:
        kids = children(session, unit.id)
        names = {str(k.id): k.display(lang) for k in kids}
        owner = child_map(session, unit, kids)

        def per_child(span: tuple[date, date]) -> dict[Any, Moments]:
            if grain is not None:
                totals = cx_periods.segment_moments(
                    session=session,
                    metric=metric.name,
                    unit_ids=[k.id for k in kids],
                    grain=grain,
                    start=span[0],
                    dim="",
                )
                return {str(uid): m for (uid, _), m in totals.items()}
            raw = cx_metrics.moments(
                session=session,
                scope=scope,
                metric=metric.name,
                start=span[0],
                end=span[1],
                group="unit",
            )
            out: dict[Any, Moments] = {}
            for uid, m in raw.items():
                child = owner.get(uid)
                if child is not None:
                    out[child] = out.get(child, Moments()) + m
            return out

        if kids:
            by_unit = _decompose(
                [str(k.id) for k in kids], per_child(before), per_child(after), metric.cx_kind
            )
        for dim in SEGMENT_DIMS:
            b, a = (
                _by_value(session, metric.name, unit, grain, s[0], dim)
                if grain is not None
                else cx_metrics.moments(
                    session=session,
                    scope=scope,
                    metric=metric.name,
                    start=s[0],
                    end=s[1],
                    group="segment",
                    compare_dim=dim,
                    segment=Segment(),
                )
                for s in (before, after)
            )
            d = _decompose(sorted(set(b) | set(a)), b, a, metric.cx_kind)
            if d is not None and len(d.segments) > 1:
                by_segment[dim] = d
    return Explanation(
        by_unit, by_segment, feedback_theme_shifts(session, scope, before, after), names
    )


def _by_value(
    session: Session, metric: str, unit: UnitRef, grain: str, start: date, dim: str
) -> dict[Any, Moments]:
    totals = cx_periods.segment_moments(
        session=session, metric=metric, unit_ids=[unit.id], grain=grain, start=start, dim=dim
    )
    return {value: m for (_, value), m in totals.items()}


def child_map(session: Session, unit: UnitRef, kids: list[UnitRef]) -> dict[int, str]:
    """Every unit below ``unit`` → the id (as text) of the child whose subtree holds it.
    Records booked on ``unit`` itself belong to no child and are left out."""
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.path).where(OrgUnit.path.startswith(unit.path))
    ).all()
    out: dict[int, str] = {}
    for uid, path in rows:
        for k in kids:
            if path.startswith(k.path):
                out[uid] = str(k.id)
                break
    return out


def feedback_theme_shifts(
    session: Session,
    scope: Scope,
    before: tuple[date, date],
    after: tuple[date, date],
    top: int = 5,
) -> list[ThemeShift]:
    """Theme share shifts of feedback in ``scope``; empty when the feedback area is absent."""
    try:
        fb = importlib.import_module("cxloop.store.models.feedback")
    except ImportError:
        return []
    feedback, theme = getattr(fb, "Feedback", None), getattr(fb, "FeedbackTheme", None)
    if feedback is None or theme is None:
        return []

    def counts(span: tuple[date, date]) -> tuple[dict[str, int], int]:
        lo = datetime.combine(span[0], time(), tzinfo=UTC)
        hi = datetime.combine(span[1], time(), tzinfo=UTC)
        where = [
            scope.condition(feedback.org_unit_id),
            feedback.occurred_at >= lo,
            feedback.occurred_at < hi,
        ]
        total = session.scalar(select(func.count()).select_from(feedback).where(*where)) or 0
        rows = session.execute(
            select(theme.theme_id, func.count(distinct(theme.feedback_id)))
            .join(feedback, feedback.id == theme.feedback_id)
            .where(*where)
            .group_by(theme.theme_id)
        )
        return {str(t): int(n) for t, n in rows}, int(total)

    c0, t0 = counts(before)
    c1, t1 = counts(after)
    if t0 == 0 or t1 == 0:
        return []
    return theme_shifts(c0, t0, c1, t1, top=top)
