"""Pluggable sources of CX figures: name → how to read raw rows, and the estimator kind.

A source turns its area's raw records (survey responses, feedback, digital sessions) into
rows of ``(org_unit_id, at, customer_id, value)``; :mod:`cxloop.engage.cx_metrics` folds those
into the ``cx_rollups`` table the scorecard reads. Each area is imported behind a guard:
when an area is not installed its figures are simply unavailable.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, select

RowsFn = Callable[[datetime, datetime], Select[Any] | None]


@dataclass(frozen=True)
class CxSource:
    """One CX figure.

    ``kind`` picks the estimator: ``nps`` (a = promoters, b = detractors), ``share``
    (a = successes, via ``success``), ``mean`` (s, ss of the value).
    """

    name: str
    label_key: str
    kind: str
    unit: str
    direction: str
    rows: RowsFn
    success: Callable[[Any], Any] | None = None
    scale: tuple[float, float] | None = None


SOURCES: dict[str, CxSource] = {}


def register(source: CxSource) -> CxSource:
    SOURCES[source.name] = source
    return source


def _model(module: str, name: str) -> Any:
    """The model class, or ``None`` when its area is not installed."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def source(name: str) -> CxSource:
    if name not in SOURCES:
        raise KeyError(f"unknown CX metric {name!r}; known: {', '.join(sorted(SOURCES))}")
    return SOURCES[name]


def available() -> list[CxSource]:
    """Sources whose area's model is installed (a figure may still have no data yet)."""
    return [s for s in SOURCES.values() if _probe(s)]


def _probe(s: CxSource) -> bool:
    from datetime import UTC

    t = datetime(2000, 1, 1, tzinfo=UTC)
    return s.rows(t, t) is not None


# --- survey responses -------------------------------------------------------------------


def _survey_rows(column: str) -> RowsFn:
    def rows(since: datetime, until: datetime) -> Select[Any] | None:
        model = _model("cxloop.store.models.surveys", "SurveyResponse")
        if model is None or not hasattr(model, column):
            return None
        value = getattr(model, column)
        return select(
            model.org_unit_id.label("unit_id"),
            model.completed_at.label("at"),
            model.customer_id.label("customer_id"),
            value.label("value"),
        ).where(
            model.completed_at.is_not(None),
            model.completed_at >= since,
            model.completed_at < until,
            value.is_not(None),
        )

    return rows


register(CxSource("nps", "scorecard.cx.nps", "nps", "score", "higher", _survey_rows("nps")))
register(
    CxSource(
        "csat",
        "scorecard.cx.csat",
        "share",
        "percent",
        "higher",
        _survey_rows("csat"),
        success=lambda v: v >= 4,
    )
)
register(CxSource("ces", "scorecard.cx.ces", "mean", "score", "higher", _survey_rows("ces")))


# --- feedback ---------------------------------------------------------------------------

_COMPLAINT_SOURCES = ("complaint_letter", "complaint")


def _feedback_rows(what: str) -> RowsFn:
    def rows(since: datetime, until: datetime) -> Select[Any] | None:
        model = _model("cxloop.store.models.feedback", "Feedback")
        if model is None:
            return None
        base = [model.occurred_at >= since, model.occurred_at < until]
        if what == "stars":
            # Ratings on another scale (e.g. 10) are brought to 1-5 stars.
            scale = model.rating_scale
            value = model.rating * 5.0 / scale
            return select(
                model.org_unit_id.label("unit_id"),
                model.occurred_at.label("at"),
                model.customer_id.label("customer_id"),
                value.label("value"),
            ).where(*base, model.source == "review", model.rating.is_not(None), scale > 0)
        if what == "complaints":
            value = model.source.in_(_COMPLAINT_SOURCES)
        else:
            value = model.sentiment_score
        return select(
            model.org_unit_id.label("unit_id"),
            model.occurred_at.label("at"),
            model.customer_id.label("customer_id"),
            value.label("value"),
        ).where(*base)

    return rows


register(
    CxSource("stars", "scorecard.cx.stars", "mean", "score", "higher", _feedback_rows("stars"))
)
register(
    CxSource(
        "complaint_rate",
        "scorecard.cx.complaint_rate",
        "share",
        "percent",
        "lower",
        _feedback_rows("complaints"),
        success=lambda v: v,
    )
)
register(
    CxSource(
        "sentiment",
        "scorecard.cx.sentiment",
        "mean",
        "score",
        "higher",
        _feedback_rows("sentiment"),
    )
)


# --- digital sessions -------------------------------------------------------------------


def _digital_rows(since: datetime, until: datetime) -> Select[Any] | None:
    model = None
    for name in ("DigitalSession", "WebSession", "Session"):
        model = _model("cxloop.store.models.digital", name)
        if model is not None and hasattr(model, "dxs"):
            break
        model = None
    if model is None:
        return None
    at = next(
        (getattr(model, c) for c in ("started_at", "ended_at", "at") if hasattr(model, c)), None
    )
    if at is None or not hasattr(model, "org_unit_id"):
        return None
    customer = getattr(model, "customer_id", None)
    return select(
        model.org_unit_id.label("unit_id"),
        at.label("at"),
        (customer if customer is not None else literal(None)).label("customer_id"),
        model.dxs.label("value"),
    ).where(at >= since, at < until, model.dxs.is_not(None))


register(CxSource("dxs", "scorecard.cx.dxs", "mean", "score", "higher", _digital_rows))
