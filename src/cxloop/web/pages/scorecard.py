"""Scorecard pages: the scorecard of a unit with drill-down, segments and time range;
a KPI's page with commentary, its history and why it moved."""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cxloop.engage import access
from cxloop.engage.cx_metrics import SEGMENT_DIMS
from cxloop.engage.hierarchy import ancestors, children
from cxloop.engage.kpis import ScorecardError, resolve_metric
from cxloop.engage.scorecard import PERIODS, Scorecard, build_scorecard
from cxloop.engage.targets import CommentCreate, add_comment, comment_history
from cxloop.signals.metrics import period_floor
from cxloop.web.api.scorecard import explain_between, label_of, load_scorecard, segments_for
from cxloop.web.deps import PageUser, Principal, SessionDep
from cxloop.web.errors import ApiError, NotFound
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("engage", "scorecard.nav", "/scorecard", "scorecard:read", 10)]
_PLOTLY = files("plotly") / "package_data" / "plotly.min.js"


@router.get("/static-plotly/plotly.min.js")
def plotly_js() -> Response:
    return FileResponse(
        str(_PLOTLY),
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )


def _parse_start(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"start {value!r} is not a date (YYYY-MM-DD)", field="start") from None


def page_context(
    session: Session, principal: Principal, card: Scorecard, *, with_children: bool = True
) -> dict[str, Any]:
    lang = principal.language
    labels = {c.kpi_id: label_of(c.metric.label, c.metric.label_ja, lang) for c in card.cards}
    kids = []
    if with_children:
        for kid in children(session, card.unit.id):
            sub = build_scorecard(
                session=session, unit=kid, period=card.period, start=card.start, trend=2
            )
            kids.append((kid, {c.kpi_id: c for c in sub.cards}))
    spark = {
        str(c.kpi_id): {
            "x": [p.start.isoformat() for p in c.trend],
            "y": [p.value for p in c.trend],
            "target": c.target,
        }
        for c in card.cards
    }
    return {
        "card": card,
        "labels": labels,
        "kids": kids,
        "crumbs": ancestors(session, card.unit),
        "spark": spark,
        "periods": PERIODS,
        "dims": SEGMENT_DIMS,
    }


def home_context(session: Session, principal: Principal) -> dict[str, Any]:
    """The home page's scorecard for the user's scope (empty when they may not read it)."""
    if not principal.can("scorecard:read"):
        return {}
    card = load_scorecard(session, principal, None, "month", None, None, None, 30)
    return page_context(session, principal, card, with_children=False)


@router.get("/scorecard")
def scorecard_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: str | None = None,
    segment: str | None = None,
    segment_value: str | None = None,
) -> Response:
    principal.require("scorecard:read")
    seg = segment or None
    card = load_scorecard(
        session, principal, unit_id, period, _parse_start(start), seg, segment_value or None, 30
    )
    ctx = page_context(session, principal, card)
    return render(request, "scorecard/index.html", principal, session=session, **ctx)


@router.get("/scorecard/kpi/{kpi_id}")
def kpi_page(
    kpi_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: str | None = None,
) -> Response:
    principal.require("scorecard:read")
    card = load_scorecard(session, principal, unit_id, period, _parse_start(start), None, None, 30)
    kpi_card = next((c for c in card.cards if c.kpi_id == kpi_id), None)
    if kpi_card is None:
        raise NotFound("kpi")
    why = explain_between(
        session, kpi_card.metric, card.unit, card.period, card.start, principal.language
    )
    history = comment_history(session, kpi_id, card.unit.id, card.period, card.start)
    ctx = page_context(session, principal, card, with_children=False)
    return render(
        request,
        "scorecard/kpi.html",
        principal,
        session=session,
        kc=kpi_card,
        why=why,
        history=history,
        **ctx,
    )


@router.post("/scorecard/kpi/{kpi_id}/comment")
def comment_form(
    kpi_id: int,
    principal: PageUser,
    session: SessionDep,
    unit_id: int = Form(),
    period: str = Form("month"),
    start: str = Form(),
    why: str = Form(""),
    action: str = Form(""),
) -> Response:
    principal.require("scorecard:write")
    begin = _parse_start(start)
    assert begin is not None
    if period not in PERIODS:
        raise ApiError(422, f"period must be one of {', '.join(PERIODS)}", field="period")
    try:
        kpi = access.visible_kpi(session, principal.scope, kpi_id)
        unit = access.visible_unit(session, principal.scope, unit_id)
        access.check_applies(session, kpi, unit)
        resolve_metric(session, kpi.metric)
        user = principal.user
        add_comment(
            session=session,
            kpi=kpi,
            data=CommentCreate(
                org_unit_id=unit.id,
                period=period,
                period_start=period_floor(period, begin),
                why=why,
                action=action,
            ),
            author_user_id=user.id if user else None,
            author=user.name if user else principal.actor.label,
        )
    except access.NotVisible as exc:
        raise ApiError(404, str(exc), field=exc.field) from None
    except ScorecardError as exc:
        raise ApiError(exc.status, str(exc), field=exc.field) from None
    target = f"/scorecard/kpi/{kpi_id}?unit_id={unit.id}&period={period}&start={begin}"
    return RedirectResponse(target, status_code=303)


@router.get("/scorecard/segments")
def segments_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    unit_id: int | None = None,
    period: str = "month",
    start: str | None = None,
    segment: str = "customer_type",
) -> Response:
    principal.require("scorecard:read")
    unit, begin, rows = segments_for(
        session, principal, unit_id, period, _parse_start(start), segment, 30
    )
    labels = {
        f.metric.ref: label_of(f.metric.label, f.metric.label_ja, principal.language) for f in rows
    }
    return render(
        request,
        "scorecard/segments.html",
        principal,
        session=session,
        unit=unit,
        period=period,
        start=begin,
        dim=segment,
        dims=SEGMENT_DIMS,
        periods=PERIODS,
        rows=rows,
        labels=labels,
    )
