"""Administration pages: people (create, access, deactivate, unlock, new password) and API keys
(create shown once, revoke), inside the caller's scope and through the same rules as the API
(``cxloop.store.admin``). The audit log's page is ``admin_audit.py``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from cxloop.security import PERMISSIONS
from cxloop.store import admin as people
from cxloop.store.admin import AdminError
from cxloop.store.org import subtree
from cxloop.web.api.admin import admin_of
from cxloop.web.deps import PageUser, Principal, SessionDep
from cxloop.web.render import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
NOTICES = ("created", "saved", "unlocked", "password_set")


def _units(session: SessionDep, principal: Principal) -> list[Any]:
    return subtree(session, principal.scope.unit_paths)


def _users_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    *,
    q: str = "",
    offset: int = 0,
    error: AdminError | None = None,
    notice: str | None = None,
) -> Response:
    admin_of(principal)
    rows, count = people.visible_users(
        session, principal.scope, q=q, limit=PAGE_SIZE, offset=offset
    )
    return _render(
        request,
        principal,
        session,
        "users",
        count=count,
        offset=offset,
        error=error,
        users=rows,
        q=q,
        roles=people.grantable_roles(principal.permissions),
        locked={u.id for u in rows if people.is_locked(u)},
        manageable=people.manageable_ids(session, principal.scope, rows),
        notice=notice,
    )


def _render(
    request: Request,
    principal: Principal,
    session: SessionDep,
    section: str,
    *,
    count: int,
    offset: int,
    error: AdminError | None,
    **context: Any,
) -> Response:
    """An admin list page: its rows in ``context``, with the caller's units and paging."""
    units = _units(session, principal)
    names = {
        u.id: (u.name_ja if principal.language == "ja" and u.name_ja else u.name) for u in units
    }
    template = {"users": "admin/users.html", "keys": "admin/api_keys.html"}[section]
    return render(
        request,
        template,
        principal,
        session=session,
        status_code=error.status if error else 200,
        section=section,
        count=count,
        offset=offset,
        page_size=PAGE_SIZE,
        units=units,
        unit_names=names,
        error=error,
        **context,
    )


@router.get("/admin")
def admin_home(principal: PageUser) -> Response:
    target = "/admin/users" if principal.can("users:admin") else "/admin/audit"
    return RedirectResponse(target, status_code=303)


@router.get("/admin/users")
def users_page(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    q: str = "",
    offset: int = 0,
    notice: str = "",
) -> Response:
    return _users_page(
        request,
        principal,
        session,
        q=q,
        offset=max(offset, 0),
        notice=f"admin.notice.{notice}" if notice in NOTICES else None,
    )


def _change(
    request: Request,
    principal: Principal,
    session: SessionDep,
    change: Callable[[people.Admin], object],
    notice: str,
) -> Response:
    assert notice in NOTICES
    """Apply one change; on refusal the page comes back with the reason beside the form."""
    admin = admin_of(principal)
    try:
        change(admin)
    except AdminError as exc:
        session.rollback()
        return _users_page(request, principal, session, error=exc)
    return RedirectResponse(f"/admin/users?notice={notice}", status_code=303)


@router.post("/admin/users")
def create_user_form(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    email: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    name: Annotated[str, Form()] = "",
    language: Annotated[str, Form()] = "",
    unit_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    def change(admin: people.Admin) -> object:
        return people.add_user(
            session,
            admin,
            email=email,
            name=name,
            role=role,
            unit_ids=unit_ids or [],
            password=password,
            language=language or None,
        )

    return _change(request, principal, session, change, "created")


@router.post("/admin/users/{user_id}/access")
def access_form(
    request: Request,
    user_id: int,
    principal: PageUser,
    session: SessionDep,
    role: Annotated[str, Form()],
    unit_ids: Annotated[list[int] | None, Form()] = None,
) -> Response:
    def change(admin: people.Admin) -> object:
        return people.change_access(session, admin, user_id, role=role, unit_ids=unit_ids or [])

    return _change(request, principal, session, change, "saved")


@router.post("/admin/users/{user_id}/active")
def active_form(
    request: Request,
    user_id: int,
    principal: PageUser,
    session: SessionDep,
    active: Annotated[int, Form()],
) -> Response:
    def change(admin: people.Admin) -> object:
        return people.set_active(session, admin, user_id, bool(active))

    return _change(request, principal, session, change, "saved")


@router.post("/admin/users/{user_id}/unlock")
def unlock_form(
    request: Request, user_id: int, principal: PageUser, session: SessionDep
) -> Response:
    def change(admin: people.Admin) -> object:
        return people.unlock(session, admin, user_id)

    return _change(request, principal, session, change, "unlocked")


@router.post("/admin/users/{user_id}/password")
def password_form(
    request: Request,
    user_id: int,
    principal: PageUser,
    session: SessionDep,
    password: Annotated[str, Form()],
) -> Response:
    def change(admin: people.Admin) -> object:
        return people.reset_password(session, admin, user_id, password)

    return _change(request, principal, session, change, "password_set")


# --- API keys -----------------------------------------------------------------------------


def _keys_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    *,
    offset: int = 0,
    error: AdminError | None = None,
    new_key: str | None = None,
) -> Response:
    admin_of(principal)
    rows, count = people.visible_keys(session, principal.scope, limit=PAGE_SIZE, offset=offset)
    return _render(
        request,
        principal,
        session,
        "keys",
        count=count,
        offset=offset,
        error=error,
        keys=rows,
        grantable=[p for p in PERMISSIONS if p in principal.permissions],
        new_key=new_key,
    )


@router.get("/admin/api-keys")
def keys_page(
    request: Request, principal: PageUser, session: SessionDep, offset: int = 0
) -> Response:
    return _keys_page(request, principal, session, offset=max(offset, 0))


@router.post("/admin/api-keys")
def create_key_form(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    name: Annotated[str, Form()],
    org_unit_id: Annotated[int, Form()],
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    admin = admin_of(principal)
    try:
        key, _ = people.add_api_key(
            session,
            admin,
            name=name,
            scopes=scopes or [],
            unit_id=org_unit_id,
            creator=principal.user,
        )
    except AdminError as exc:
        session.rollback()
        return _keys_page(request, principal, session, error=exc)
    session.flush()
    response = _keys_page(request, principal, session, new_key=key)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/api-keys/{key_id}/revoke")
def revoke_key_form(
    request: Request, key_id: int, principal: PageUser, session: SessionDep
) -> Response:
    admin = admin_of(principal)
    try:
        people.revoke_api_key(session, admin, key_id)
    except AdminError as exc:
        session.rollback()
        return _keys_page(request, principal, session, error=exc)
    return RedirectResponse("/admin/api-keys", status_code=303)
