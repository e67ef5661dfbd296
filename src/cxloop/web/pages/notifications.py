"""Admin page of notification endpoints: e-mail, signed webhooks, chat webhooks, and the
GitHub / Jira / webhook targets that backlog items are exported to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.act import notify, views
from cxloop.store.models.act import ENDPOINT_KINDS, Endpoint
from cxloop.store.models.org import OrgUnit
from cxloop.store.org import subtree
from cxloop.store.scope import scoped_page
from cxloop.web.api._act_common import require_private_flag, send_after_commit
from cxloop.web.deps import HueyDep, PageUser, Principal, SessionDep
from cxloop.web.errors import visible_or_404
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [NavItem("act", "act.nav.endpoints", "/act/endpoints", "rules:admin", 55)]


def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    *,
    editing: Endpoint | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    created: Endpoint | None = None,
    status_code: int = 200,
) -> Response:
    rows, _ = scoped_page(session, principal.scope, Endpoint, order_by=Endpoint.name, limit=500)
    ids = {e.org_unit_id for e in rows}
    names = {u.id: u for u in session.query(OrgUnit).filter(OrgUnit.id.in_(ids))}
    return render(
        request,
        "act/endpoints.html",
        principal,
        session=session,
        endpoints=rows,
        unit_names=names,
        units=subtree(session, principal.scope.unit_paths),
        kinds=ENDPOINT_KINDS,
        testable=notify.TESTABLE_KINDS,
        shown_target=views.shown_target,
        editing=editing,
        form=form or {},
        error=error,
        created=created,
        status_code=status_code,
    )


def _endpoint(principal: Principal, session: SessionDep, endpoint_id: int) -> Endpoint:
    principal.require("rules:admin")
    endpoint = visible_or_404(session, principal.scope, Endpoint, endpoint_id, "endpoint")
    return endpoint


def _message(exc: notify.EndpointError) -> str:
    """The error with the field it is about in front, once."""
    return exc.message if exc.message.startswith(exc.field) else f"{exc.field}: {exc.message}"


@router.get("/act/endpoints")
def endpoints_page(
    request: Request, principal: PageUser, session: SessionDep, edit: int | None = None
) -> Response:
    principal.require("rules:admin")
    editing = _endpoint(principal, session, edit) if edit is not None else None
    return _page(request, principal, session, editing=editing)


@router.post("/act/endpoints")
def create_endpoint(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    kind: Annotated[str, Form()],
    target: Annotated[str, Form()],
    project: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "",
    allow_private: Annotated[bool, Form()] = False,
) -> Response:
    """Create an endpoint; a webhook's signing secret is shown on this response only."""
    principal.require("rules:admin")
    require_private_flag(principal, allow_private)
    form = {"name": name, "org_unit_id": str(org_unit_id), "kind": kind, "target": target}
    form |= {"project": project, "username": username}
    try:
        if not principal.scope.contains(session, org_unit_id):
            raise notify.EndpointError(f"org unit {org_unit_id} not found", "org_unit_id")
        if not name.strip():
            raise notify.EndpointError("name: give the endpoint a name", "name")
        endpoint = notify.create_endpoint(
            session=session,
            org_unit_id=org_unit_id,
            name=name.strip()[:200],
            kind=kind,
            target=target.strip(),
            project=project.strip() or None,
            secret=secret.strip() or None,
            username=username.strip() or None,
            allow_private=allow_private,
        )
    except notify.EndpointError as exc:
        session.rollback()
        return _page(request, principal, session, form=form, error=_message(exc), status_code=422)
    return _page(request, principal, session, created=endpoint, status_code=201)


@router.post("/act/endpoints/{endpoint_id}")
def edit_endpoint(
    endpoint_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form()],
    target: Annotated[str, Form()] = "",
    allow_private: Annotated[bool, Form()] = False,
) -> Response:
    """Rename, re-target (an empty target keeps the current one) or change the
    private-address permission."""
    endpoint = _endpoint(principal, session, endpoint_id)
    if allow_private != endpoint.allow_private:
        require_private_flag(principal, True)
    changes: dict[str, object] = {"name": name.strip()[:200] or endpoint.name}
    changes["allow_private"] = allow_private
    if target.strip():
        changes["target"] = target.strip()
    try:
        notify.update_endpoint(session=session, endpoint=endpoint, changes=changes)
    except notify.EndpointError as exc:
        session.rollback()
        editing = _endpoint(principal, session, endpoint_id)
        return _page(
            request, principal, session, editing=editing, error=_message(exc), status_code=422
        )
    return RedirectResponse("/act/endpoints", status_code=303)


@router.post("/act/endpoints/{endpoint_id}/toggle")
def toggle_endpoint(endpoint_id: int, principal: PageUser, session: SessionDep) -> Response:
    """Disable an endpoint (rules and exports stop using it) or enable it again."""
    endpoint = _endpoint(principal, session, endpoint_id)
    endpoint.is_active = not endpoint.is_active
    session.flush()
    return RedirectResponse("/act/endpoints", status_code=303)


@router.post("/act/endpoints/{endpoint_id}/test")
def send_test(
    endpoint_id: int,
    request: Request,
    principal: PageUser,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> Response:
    """Queue a test message; the delivery list of the endpoint shows how it went."""
    endpoint = _endpoint(principal, session, endpoint_id)
    try:
        notify.queue_test(session=session, endpoint=endpoint)
    except notify.EndpointError as exc:
        return _page(request, principal, session, error=_message(exc), status_code=422)
    send_after_commit(background, huey, session)
    return RedirectResponse(f"/act/deliveries?status=all&endpoint={endpoint.id}", status_code=303)
