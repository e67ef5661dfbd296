"""Product backlog: items from themes or records with customer evidence, export and sync."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cxloop.act import backlog, backlog_export
from cxloop.store.models.act import BacklogItem
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import scoped_page
from cxloop.web.api._act_common import (
    active_endpoint,
    backlog_item,
    backlog_link,
    send_after_commit,
)
from cxloop.web.deps import (
    CurrentPrincipal,
    HueyDep,
    Pagination,
    Principal,
    SessionDep,
    SettingsDep,
)
from cxloop.web.errors import ApiError
from cxloop.web.schemas import Page

router = APIRouter(tags=["backlog"])
Status = Literal["open", "exported", "in_progress", "done", "wont_do"]


class BacklogCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    org_unit_id: int
    description: str = Field("", max_length=20_000)
    theme: str | None = Field(None, max_length=100)
    records: list[str] = Field(default_factory=list, max_length=5000)


class BacklogUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=20_000)
    status: Status | None = None


class BacklogPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    title: str
    description: str
    theme: str | None
    records: list[str]
    evidence: dict[str, Any]
    impact: float
    status: str
    external_system: str | None
    external_key: str | None
    external_url: str | None
    external_status: str | None
    created_at: datetime
    updated_at: datetime


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    endpoint_id: int


class ExternalStatus(BaseModel):
    """Pushed by the issue tracker (or a script) when the external issue changes."""

    model_config = ConfigDict(extra="forbid")
    external_status: str = Field(min_length=1, max_length=100)
    status: Status | None = None


def _error(exc: backlog.BacklogError) -> ApiError:
    return ApiError(exc.status, exc.message, field=exc.field)


def _unit_ids(principal: Principal, session: SessionDep, unit_id: int) -> list[int]:
    unit = session.get(OrgUnit, unit_id)
    if unit is None or not principal.scope.contains(session, unit.id):
        raise ApiError(404, f"org unit {unit_id} not found", field="org_unit_id")
    return list(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))


@router.get("/backlog")
def list_items(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, status: Status | None = None
) -> Page[BacklogPublic]:
    """Items by customer impact, highest first."""
    principal.require("cases:read")
    filters = [BacklogItem.status == status] if status else []
    rows, count = scoped_page(
        session,
        principal.scope,
        BacklogItem,
        filters=filters,
        order_by=BacklogItem.impact.desc(),
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        data=[BacklogPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/backlog", status_code=201)
def create_item(
    body: BacklogCreate, principal: CurrentPrincipal, session: SessionDep
) -> BacklogPublic:
    principal.require("cases:write")
    unit_ids = _unit_ids(principal, session, body.org_unit_id)
    try:
        item = backlog.create_item(
            session=session,
            org_unit_id=body.org_unit_id,
            title=body.title,
            unit_ids=unit_ids,
            description=body.description,
            theme=body.theme,
            refs=body.records,
            created_by_id=principal.user.id if principal.user else None,
        )
    except backlog.BacklogError as exc:
        raise _error(exc) from None
    return BacklogPublic.model_validate(item)


@router.get("/backlog/{item_id}")
def get_item(item_id: int, principal: CurrentPrincipal, session: SessionDep) -> BacklogPublic:
    return BacklogPublic.model_validate(backlog_item(principal, session, item_id))


@router.patch("/backlog/{item_id}")
def update_item(
    item_id: int, body: BacklogUpdate, principal: CurrentPrincipal, session: SessionDep
) -> BacklogPublic:
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    changes = body.model_dump(exclude_unset=True)
    if changes.get("status"):
        backlog.set_status(session=session, item=item, status=changes.pop("status"))
    for name, value in changes.items():
        if value is not None:
            setattr(item, name, value)
    session.flush()
    return BacklogPublic.model_validate(item)


@router.post("/backlog/{item_id}/export")
def export_item(
    item_id: int,
    body: ExportRequest,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> BacklogPublic:
    """Create the GitHub issue / Jira issue / webhook message for the item."""
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    principal.require("export")
    endpoint = active_endpoint(session, principal.scope, body.endpoint_id)
    if item.external_key and item.external_system in ("github", "jira"):
        raise ApiError(409, f"already exported as {item.external_key}", field="endpoint_id")
    try:
        backlog_export.export_item(
            session=session, item=item, endpoint=endpoint, link=backlog_link(settings, item)
        )
    except backlog.BacklogError as exc:
        raise _error(exc) from None
    send_after_commit(background, huey, session)
    return BacklogPublic.model_validate(item)


@router.post("/backlog/{item_id}/sync")
def sync_item(item_id: int, principal: CurrentPrincipal, session: SessionDep) -> BacklogPublic:
    """Read the external issue's status now."""
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    endpoint = active_endpoint(session, principal.scope, item.endpoint_id)
    try:
        backlog_export.sync_status(session=session, item=item, endpoint=endpoint)
    except backlog.BacklogError as exc:
        raise _error(exc) from None
    return BacklogPublic.model_validate(item)


@router.post("/backlog/{item_id}/external-status")
def push_status(
    item_id: int, body: ExternalStatus, principal: CurrentPrincipal, session: SessionDep
) -> BacklogPublic:
    """Receiver for status changes pushed by the tracker's automation (API key with
    ``cases:write``)."""
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    backlog_export.apply_external_status(
        session=session, item=item, external=body.external_status, local=body.status
    )
    return BacklogPublic.model_validate(item)
