"""The org's theme taxonomy, background jobs (re-analysis, discovery) and discovered clusters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from huey import Huey
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.insight.text import TaxonomyError
from cxloop.jobs import enqueue
from cxloop.signals.feedback_jobs import JobCreate, PromoteIn, create_job, promote_cluster
from cxloop.signals.feedback_taxonomy import (
    ThemeCreate,
    ThemePublic,
    ThemeUpdate,
    create_theme,
    delete_theme,
    list_themes,
    taxonomy_version,
    update_theme,
)
from cxloop.store.models.feedback import FeedbackJob, ThemeCluster
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import scoped_page
from cxloop.web.deps import CurrentPrincipal, HueyDep, Pagination, Principal, SessionDep
from cxloop.web.errors import ApiError, NotFound, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["feedback"])
ADMIN = "rules:admin"


class TaxonomyPublic(BaseModel):
    version: int
    themes: list[ThemePublic]


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    kind: str
    status: str
    processed: int
    total: int
    params: dict[str, Any]
    error: str | None
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ClusterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    job_id: int
    label: str
    terms: list[str]
    size: int
    examples: list[dict[str, Any]]
    promoted_key: str | None


class PromotedPublic(BaseModel):
    theme: ThemePublic
    job: JobPublic


def _taxonomy_error(exc: TaxonomyError) -> ApiError:
    first = exc.errors[0]
    field = first.split(":", 1)[0] if ":" in first else None
    return ApiError(422, "; ".join(exc.errors), field=field)


@router.get("/feedback/taxonomy")
def get_taxonomy(principal: CurrentPrincipal, session: SessionDep) -> TaxonomyPublic:
    principal.require("feedback:read")
    themes = [ThemePublic.model_validate(t) for t in list_themes(session=session)]
    return TaxonomyPublic(version=taxonomy_version(session=session), themes=themes)


@router.post("/feedback/taxonomy/themes", status_code=201)
def add_theme(body: ThemeCreate, principal: CurrentPrincipal, session: SessionDep) -> ThemePublic:
    principal.require(ADMIN)
    try:
        row = create_theme(session=session, data=body, actor=principal.actor.label)
    except TaxonomyError as exc:
        raise _taxonomy_error(exc) from None
    return ThemePublic.model_validate(row)


@router.patch("/feedback/taxonomy/themes/{key}")
def edit_theme(
    key: str, body: ThemeUpdate, principal: CurrentPrincipal, session: SessionDep
) -> ThemePublic:
    principal.require(ADMIN)
    try:
        row = update_theme(session=session, key=key, data=body, actor=principal.actor.label)
    except TaxonomyError as exc:
        raise _taxonomy_error(exc) from None
    if row is None:
        raise NotFound("theme")
    return ThemePublic.model_validate(row)


@router.delete("/feedback/taxonomy/themes/{key}", status_code=204)
def remove_theme(key: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require(ADMIN)
    try:
        found = delete_theme(session=session, key=key, actor=principal.actor.label)
    except TaxonomyError as exc:
        raise _taxonomy_error(exc) from None
    if not found:
        raise NotFound("theme")
    return Response(status_code=204)


def start_job(session: Session, huey: Huey, principal: Principal, data: JobCreate) -> FeedbackJob:
    """Create the job row, commit it so the worker sees it, then queue the work."""
    unit_id = data.org_unit_id
    if unit_id is None:
        tops = principal.scope.unit_paths
        if len(tops) != 1:
            raise ApiError(422, "org_unit_id: choose one of your units", field="org_unit_id")
        unit_id = _unit_for(session, tops[0])
    elif not principal.scope.contains(session, unit_id):
        raise ApiError(404, f"org unit {unit_id} not found", field="org_unit_id")
    job = create_job(session=session, data=data, org_unit_id=unit_id, actor=principal.actor.label)
    session.commit()
    enqueue(huey, "feedback_job", job.id)
    session.refresh(job)
    return job


def _unit_for(session: Session, path: str) -> int:
    unit_id = session.scalar(select(OrgUnit.id).where(OrgUnit.path == path))
    if unit_id is None:
        raise ApiError(422, "org_unit_id: choose one of your units", field="org_unit_id")
    return unit_id


@router.post("/feedback/jobs", status_code=202)
def queue_job(
    body: JobCreate, principal: CurrentPrincipal, session: SessionDep, huey: HueyDep
) -> JobPublic:
    """Start re-analysis of past records or theme discovery; poll the job for progress."""
    principal.require(ADMIN)
    return JobPublic.model_validate(start_job(session, huey, principal, body))


@router.get("/feedback/jobs")
def list_jobs(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[JobPublic]:
    principal.require("feedback:read")
    rows, count = scoped_page(
        session, principal.scope, FeedbackJob, limit=page.limit, offset=page.offset
    )
    return Page(
        data=[JobPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/feedback/jobs/{job_id}")
def get_job(job_id: int, principal: CurrentPrincipal, session: SessionDep) -> JobPublic:
    principal.require("feedback:read")
    row = visible_or_404(session, principal.scope, FeedbackJob, job_id, "job")
    return JobPublic.model_validate(row)


@router.get("/feedback/clusters")
def list_clusters(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, job_id: int | None = None
) -> Page[ClusterPublic]:
    principal.require("feedback:read")
    filters = [ThemeCluster.job_id == job_id] if job_id is not None else []
    rows, count = scoped_page(
        session,
        principal.scope,
        ThemeCluster,
        filters=filters,
        order_by=ThemeCluster.size.desc(),
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        data=[ClusterPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/feedback/clusters/{cluster_id}/promote", status_code=201)
def promote(
    cluster_id: int,
    body: PromoteIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    huey: HueyDep,
) -> PromotedPublic:
    """Add a discovered cluster to the taxonomy and re-analyse past records with it."""
    principal.require(ADMIN)
    cluster = visible_or_404(session, principal.scope, ThemeCluster, cluster_id, "cluster")
    if cluster.promoted_key:
        raise ApiError(409, f"already promoted as {cluster.promoted_key!r}", field="key")
    try:
        theme = promote_cluster(
            session=session, cluster=cluster, data=body, actor=principal.actor.label
        )
    except TaxonomyError as exc:
        raise _taxonomy_error(exc) from None
    job = start_job(
        session, huey, principal, JobCreate(kind="reanalyze", org_unit_id=cluster.org_unit_id)
    )
    return PromotedPublic(
        theme=ThemePublic.model_validate(theme), job=JobPublic.model_validate(job)
    )
