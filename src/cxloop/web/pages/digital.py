"""Digital body language pages: overview, session list, session timeline, sites, DXS and
surveys."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import plotly
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from cxloop.insight.digital import SIGNAL_TYPES
from cxloop.signals.digital import (
    SessionFilters,
    collect_counts,
    dxs_trend,
    hot_spots,
    list_sessions,
    session_detail,
    worst_pages,
)
from cxloop.signals.digital_counts import sees_unattributed, unknown_keys
from cxloop.signals.digital_sites import SiteCreate, create_site
from cxloop.signals.digital_survey import dxs_vs_survey
from cxloop.store.base import utcnow
from cxloop.store.models.digital import DigitalSession, DigitalSite
from cxloop.web.deps import PageUser, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("insight", "digital.nav.overview", "/digital", "digital:read", 30)]

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PAGE_SIZE = 50


@router.get("/digital/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the installed package (never a CDN)."""
    return FileResponse(
        PLOTLY_JS,
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/digital")
def overview(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> Response:
    principal.require("digital:read")
    since = utcnow() - timedelta(days=days)
    scope = principal.scope
    trend = dxs_trend(session=session, scope=scope, since=since)
    return render(
        request,
        "digital/overview.html",
        principal,
        session=session,
        days=days,
        trend=[p.model_dump(mode="json") for p in trend],
        pages=worst_pages(session=session, scope=scope, since=since, limit=10),
        spots=hot_spots(session=session, scope=scope, since=since, limit=10),
    )


@router.get("/digital/survey")
def survey_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 90,
) -> Response:
    """DXS bands against the NPS and CSAT the sessions' customers gave afterwards."""
    principal.require("digital:read")
    since = utcnow() - timedelta(days=days)
    rel = dxs_vs_survey(session=session, scope=principal.scope, since=since)
    return render(
        request,
        "digital/survey.html",
        principal,
        session=session,
        days=days,
        since=since.strftime("%Y-%m-%dT%H:%M:%S"),
        rel=rel,
        chart=[b.model_dump(mode="json") for b in rel.bins],
    )


@router.get("/digital/sessions")
def sessions_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    signal: str | None = None,
    max_dxs: Annotated[float | None, Query(ge=0, le=10)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    principal.require("digital:read")
    signal = signal if signal in SIGNAL_TYPES else None
    rows, count = list_sessions(
        session=session,
        scope=principal.scope,
        filters=SessionFilters(signal=signal, max_dxs=max_dxs),
        limit=PAGE_SIZE,
        offset=offset,
    )
    return render(
        request,
        "digital/sessions.html",
        principal,
        session=session,
        rows=rows,
        count=count,
        offset=offset,
        page_size=PAGE_SIZE,
        signal=signal,
        max_dxs=max_dxs,
        signal_types=SIGNAL_TYPES,
    )


@router.get("/digital/sessions/{session_id}")
def session_page(
    session_id: int, request: Request, principal: PageUser, session: SessionDep
) -> Response:
    principal.require("digital:read")
    row = visible_or_404(session, principal.scope, DigitalSession, session_id, "session")
    detail = session_detail(session=session, row=row)
    return render(request, "digital/session.html", principal, session=session, s=detail)


@router.get("/digital/sites")
def sites_page(
    request: Request, principal: PageUser, session: SessionDep, error: str | None = None
) -> Response:
    principal.require("digital:read")
    sites = session.scalars(
        select(DigitalSite)
        .where(principal.scope.condition(DigitalSite.org_unit_id))
        .order_by(DigitalSite.name)
    ).all()
    counts = {s.id: collect_counts(session=session, site_id=s.id) for s in sites}
    unknown = None
    if principal.can("digital:admin") and sees_unattributed(session, principal.scope):
        unknown = unknown_keys(session=session)
    return render(
        request,
        "digital/sites.html",
        principal,
        session=session,
        sites=sites,
        counts=counts,
        unknown=unknown,
        error=error,
        base_url=str(request.base_url).rstrip("/"),
    )


@router.post("/digital/sites")
def sites_create(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    origins: Annotated[str, Form()] = "",
    consent_required: Annotated[bool, Form()] = False,
) -> Response:
    principal.require("digital:admin")
    if not principal.scope.contains(session, org_unit_id):
        raise ApiError(404, "org unit not found", field="org_unit_id")
    try:
        data = SiteCreate(
            org_unit_id=org_unit_id,
            name=name,
            allowed_origins=[o for o in origins.split() if o],
            consent_required=consent_required,
        )
    except ValidationError as exc:
        msg = str(exc.errors(include_url=False)[0].get("msg", "invalid"))
        return sites_page(request, principal, session, error=msg)
    create_site(session=session, data=data)
    return RedirectResponse("/digital/sites", status_code=303)
