"""Backlog pages: items by customer impact, an item with its evidence, creating one from a
theme or records, and exporting it to GitHub Issues, Jira or a webhook (with status sync)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from cxloop.act import backlog, backlog_export, views
from cxloop.store.models.act import BacklogItem, Endpoint
from cxloop.store.models.org import OrgUnit
from cxloop.store.org import subtree
from cxloop.web.api._act_common import (
    active_endpoint,
    backlog_item,
    backlog_link,
    send_after_commit,
)
from cxloop.web.deps import HueyDep, PageUser, Principal, SessionDep, SettingsDep
from cxloop.web.errors import ApiError
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("act", "act.nav.backlog", "/act/backlog", "cases:read", 50)]
EXPORT_KINDS = ("github", "jira", "webhook")


@router.get("/act/backlog")
def backlog_page(request: Request, principal: PageUser, session: SessionDep) -> Response:
    principal.require("cases:read")
    items = views.backlog_items(session=session, scope=principal.scope)
    units = subtree(session, principal.scope.unit_paths)
    return render(request, "act/backlog.html", principal, session=session, items=items, units=units)


def _detail(
    request: Request,
    principal: Principal,
    session: SessionDep,
    item: BacklogItem,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    targets = session.scalars(
        select(Endpoint)
        .where(
            principal.scope.condition(Endpoint.org_unit_id),
            Endpoint.kind.in_(EXPORT_KINDS),
            Endpoint.is_active.is_(True),
        )
        .order_by(Endpoint.name)
    ).all()
    return render(
        request,
        "act/backlog_item.html",
        principal,
        session=session,
        item=item,
        targets=targets,
        linked=session.get(Endpoint, item.endpoint_id) if item.endpoint_id else None,
        error=error,
        status_code=status_code,
    )


@router.get("/act/backlog/{item_id}")
def backlog_item_page(
    item_id: int, request: Request, principal: PageUser, session: SessionDep
) -> Response:
    return _detail(request, principal, session, backlog_item(principal, session, item_id))


@router.post("/act/backlog")
def create_backlog_item(
    principal: PageUser,
    session: SessionDep,
    title: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    theme: Annotated[str, Form()] = "",
    records: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """A backlog item from a theme and/or record references ("feedback:12, response:7")."""
    principal.require("cases:write")
    if not principal.scope.contains(session, org_unit_id):
        raise ApiError(404, f"org unit {org_unit_id} not found", field="org_unit_id")
    unit = session.get(OrgUnit, org_unit_id)
    assert unit is not None
    unit_ids = list(session.scalars(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    refs = [r.strip() for r in records.replace("\n", ",").split(",") if r.strip()]
    try:
        item = backlog.create_item(
            session=session,
            org_unit_id=org_unit_id,
            title=title.strip() or "?",
            unit_ids=unit_ids,
            description=description,
            theme=theme.strip() or None,
            refs=refs,
            created_by_id=principal.user.id if principal.user else None,
        )
    except backlog.BacklogError as exc:
        raise ApiError(exc.status, exc.message, field=exc.field) from None
    return RedirectResponse(f"/act/backlog/{item.id}", status_code=303)


def _failed(
    request: Request,
    principal: Principal,
    session: SessionDep,
    item_id: int,
    exc: backlog.BacklogError | ApiError,
) -> Response:
    """Show what went wrong on the item's page (nothing of the failed call is kept)."""
    session.rollback()
    item = backlog_item(principal, session, item_id)
    message = exc.message
    if exc.field and not message.startswith(exc.field):
        message = f"{exc.field}: {message}"
    return _detail(request, principal, session, item, message, exc.status)


@router.post("/act/backlog/{item_id}/export")
def export_item(
    item_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    huey: HueyDep,
    background: BackgroundTasks,
    endpoint_id: Annotated[int, Form()],
) -> Response:
    """Create the GitHub issue / Jira issue / webhook message for the item."""
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    principal.require("export")
    try:
        endpoint = active_endpoint(session, principal.scope, endpoint_id)
        if endpoint.kind not in EXPORT_KINDS:
            raise ApiError(422, "choose a GitHub, Jira or webhook endpoint", field="endpoint_id")
        if item.external_key and item.external_system in ("github", "jira"):
            raise ApiError(409, f"already exported as {item.external_key}", field="endpoint_id")
        backlog_export.export_item(
            session=session, item=item, endpoint=endpoint, link=backlog_link(settings, item)
        )
    except (backlog.BacklogError, ApiError) as exc:
        return _failed(request, principal, session, item_id, exc)
    send_after_commit(background, huey, session)
    return RedirectResponse(f"/act/backlog/{item.id}", status_code=303)


@router.post("/act/backlog/{item_id}/sync")
def sync_item(item_id: int, request: Request, principal: PageUser, session: SessionDep) -> Response:
    """Read the linked issue's status now."""
    item = backlog_item(principal, session, item_id)
    principal.require("cases:write")
    try:
        endpoint = active_endpoint(session, principal.scope, item.endpoint_id)
        backlog_export.sync_status(session=session, item=item, endpoint=endpoint)
    except (backlog.BacklogError, ApiError) as exc:
        return _failed(request, principal, session, item_id, exc)
    return RedirectResponse(f"/act/backlog/{item.id}", status_code=303)
