"""Digital body language: sites (admin), sessions with signals and DXS, page rollups."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from cxloop.csv_export import csv_download, to_csv
from cxloop.insight.digital import SIGNAL_TYPES
from cxloop.signals.digital import (
    DigitalSessionDetail,
    DigitalSessionPublic,
    HotSpotAggregate,
    PageAggregate,
    SessionFilters,
    TrendPoint,
    collect_counts,
    dxs_trend,
    hot_spots,
    list_sessions,
    session_detail,
    worst_pages,
)
from cxloop.signals.digital_counts import UnknownKeyCount, sees_unattributed, unknown_keys
from cxloop.signals.digital_sites import SiteCreate, SiteUpdate, create_site, update_site
from cxloop.signals.digital_survey import (
    CSV_HEADER,
    DxsSurveyRelation,
    dxs_vs_survey,
    relation_rows,
)
from cxloop.store.models.digital import DigitalSession, DigitalSite
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(prefix="/digital", tags=["digital"])


class SitePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_unit_id: int
    name: str
    site_key: str
    allowed_origins: list[str]
    thresholds: dict[str, Any]
    consent_required: bool
    frustration_dxs: float
    active: bool
    created_at: datetime


class SiteCounts(BaseModel):
    site_id: int
    since: date | None
    outcomes: dict[str, dict[str, int]]


def _site(session: SessionDep, principal: CurrentPrincipal, site_id: int) -> DigitalSite:
    row = visible_or_404(session, principal.scope, DigitalSite, site_id, "site")
    return row


@router.get("/sites")
def list_sites(principal: CurrentPrincipal, session: SessionDep) -> list[SitePublic]:
    principal.require("digital:read")
    rows = session.scalars(
        select(DigitalSite)
        .where(principal.scope.condition(DigitalSite.org_unit_id))
        .order_by(DigitalSite.name, DigitalSite.id)
    )
    return [SitePublic.model_validate(r) for r in rows]


@router.post("/sites", status_code=201)
def post_site(body: SiteCreate, principal: CurrentPrincipal, session: SessionDep) -> SitePublic:
    principal.require("digital:admin")
    if not principal.scope.contains(session, body.org_unit_id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    return SitePublic.model_validate(create_site(session=session, data=body))


@router.get("/sites/{site_id}")
def get_site(site_id: int, principal: CurrentPrincipal, session: SessionDep) -> SitePublic:
    principal.require("digital:read")
    return SitePublic.model_validate(_site(session, principal, site_id))


@router.patch("/sites/{site_id}")
def patch_site(
    site_id: int, body: SiteUpdate, principal: CurrentPrincipal, session: SessionDep
) -> SitePublic:
    principal.require("digital:admin")
    row = update_site(session=session, site=_site(session, principal, site_id), data=body)
    return SitePublic.model_validate(row)


@router.get("/sites/{site_id}/counts")
def get_site_counts(
    site_id: int, principal: CurrentPrincipal, session: SessionDep, since: date | None = None
) -> SiteCounts:
    """Collector outcomes: accepted, duplicate and each rejection reason, batches and events."""
    principal.require("digital:read")
    site = _site(session, principal, site_id)
    outcomes = collect_counts(session=session, site_id=site.id, since=since)
    return SiteCounts(site_id=site.id, since=since, outcomes=outcomes)


@router.get("/unknown-keys")
def get_unknown_keys(
    principal: CurrentPrincipal, session: SessionDep, since: date | None = None
) -> list[UnknownKeyCount]:
    """Batches refused under site keys that match no site (or none): typos in a tag, old
    keys, probes. They belong to no org unit, so only admins of the whole company see them."""
    principal.require("digital:admin")
    if not sees_unattributed(session, principal.scope):
        raise ApiError(403, "only an admin who sees the whole company sees unknown site keys")
    return unknown_keys(session=session, since=since)


def _signal_type(value: str | None) -> str | None:
    if value is not None and value not in SIGNAL_TYPES:
        raise ApiError(422, f"signal: must be one of {', '.join(SIGNAL_TYPES)}", field="signal")
    return value


@router.get("/sessions")
def get_sessions(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_dxs: Annotated[float | None, Query(ge=0, le=10)] = None,
    max_dxs: Annotated[float | None, Query(ge=0, le=10)] = None,
    signal: str | None = None,
    key: Annotated[str | None, Query(max_length=64)] = None,
    customer_id: int | None = None,
    status: Annotated[str | None, Query(pattern="^(open|closed)$")] = None,
) -> Page[DigitalSessionPublic]:
    """Sessions, newest first; ``key`` is the tracker's session id."""
    principal.require("digital:read")
    filters = SessionFilters(
        site_id=site_id,
        since=since,
        until=until,
        min_dxs=min_dxs,
        max_dxs=max_dxs,
        signal=_signal_type(signal),
        session_key=key,
        customer_id=customer_id,
        status=status,
    )
    data, count = list_sessions(
        session=session,
        scope=principal.scope,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/sessions/{session_id}")
def get_session(
    session_id: int, principal: CurrentPrincipal, session: SessionDep
) -> DigitalSessionDetail:
    principal.require("digital:read")
    row = visible_or_404(session, principal.scope, DigitalSession, session_id, "session")
    return session_detail(session=session, row=row)


@router.get("/pages")
def get_pages(
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_sessions: Annotated[int, Query(ge=1)] = 1,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[PageAggregate]:
    """Pages by mean DXS over scored sessions, worst first, with their signal counts."""
    principal.require("digital:read")
    return worst_pages(
        session=session,
        scope=principal.scope,
        site_id=site_id,
        since=since,
        until=until,
        min_sessions=min_sessions,
        limit=limit,
    )


@router.get("/hotspots")
def get_hotspots(
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[HotSpotAggregate]:
    """Frustration hot spots: (page, selector) with the most signals."""
    principal.require("digital:read")
    return hot_spots(
        session=session,
        scope=principal.scope,
        site_id=site_id,
        since=since,
        until=until,
        limit=limit,
    )


@router.get("/trend")
def get_trend(
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TrendPoint]:
    principal.require("digital:read")
    return dxs_trend(
        session=session, scope=principal.scope, site_id=site_id, since=since, until=until
    )


@router.get("/dxs-vs-survey")
def get_dxs_vs_survey(
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: int | None = None,
    since: datetime | None = None,
) -> DxsSurveyRelation:
    """DXS bins of identified sessions against the NPS and CSAT their customers gave
    afterwards, with each kind's rank correlation and its number of pairs."""
    principal.require("digital:read")
    return dxs_vs_survey(session=session, scope=principal.scope, site_id=site_id, since=since)


@router.get("/dxs-vs-survey.csv", response_class=Response)
def get_dxs_vs_survey_csv(
    principal: CurrentPrincipal,
    session: SessionDep,
    site_id: int | None = None,
    since: datetime | None = None,
) -> Response:
    """The DXS bands of ``/dxs-vs-survey`` as CSV."""
    principal.require("digital:read")
    rel = dxs_vs_survey(session=session, scope=principal.scope, site_id=site_id, since=since)
    return csv_download(to_csv(CSV_HEADER, relation_rows(rel)), "dxs-vs-survey.csv")
