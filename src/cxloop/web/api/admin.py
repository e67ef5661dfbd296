"""Users and API keys, administered inside the caller's scope (``users:admin``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from cxloop.store import admin as people
from cxloop.store.admin import Admin, AdminError
from cxloop.store.models.org import User
from cxloop.web.deps import CurrentPrincipal, Pagination, Principal, SessionDep
from cxloop.web.errors import ApiError
from cxloop.web.schemas import Page

router = APIRouter(tags=["admin"])


def admin_of(principal: Principal) -> Admin:
    principal.require("users:admin")
    return Admin(
        scope=principal.scope,
        permissions=principal.permissions,
        actor=principal.actor,
        user_id=principal.user.id if principal.user else None,
    )


@contextmanager
def admin_errors() -> Iterator[None]:
    try:
        yield
    except AdminError as exc:
        raise ApiError(exc.status, str(exc), field=exc.field) from None


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    role: str
    language: str | None
    is_active: bool
    locked: bool = False
    unit_ids: list[int]


def _user(user: User) -> UserPublic:
    out = UserPublic.model_validate(user)
    out.locked = people.is_locked(user)
    return out


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    name: str = Field(default="", max_length=200)
    role: str
    unit_ids: list[int] = Field(min_length=1)
    password: str = Field(max_length=200)
    language: str | None = None


class UserAccessUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    unit_ids: list[int] = Field(min_length=1)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    is_active: bool | None = None
    password: str | None = Field(default=None, max_length=200)
    unlock: bool = False


@router.get("/users")
def list_users(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, q: str = ""
) -> Page[UserPublic]:
    admin_of(principal)
    rows, count = people.visible_users(
        session, principal.scope, q=q, limit=page.limit, offset=page.offset
    )
    return Page(data=[_user(u) for u in rows], count=count, limit=page.limit, offset=page.offset)


@router.post("/users", status_code=201)
def create_user(body: UserCreate, principal: CurrentPrincipal, session: SessionDep) -> UserPublic:
    admin = admin_of(principal)
    with admin_errors():
        user = people.add_user(session, admin, **body.model_dump())
    return _user(user)


@router.put("/users/{user_id}/access")
def update_access(
    user_id: int, body: UserAccessUpdate, principal: CurrentPrincipal, session: SessionDep
) -> UserPublic:
    admin = admin_of(principal)
    with admin_errors():
        user = people.change_access(session, admin, user_id, role=body.role, unit_ids=body.unit_ids)
    return _user(user)


@router.patch("/users/{user_id}")
def update_user(
    user_id: int, body: UserUpdate, principal: CurrentPrincipal, session: SessionDep
) -> UserPublic:
    """Deactivate or reactivate, unlock after failed logins, or set a new password."""
    admin = admin_of(principal)
    with admin_errors():
        user = people.manageable_user(session, admin, user_id)
        if body.is_active is not None:
            people.set_active(session, admin, user_id, body.is_active)
        if body.unlock:
            people.unlock(session, admin, user_id)
        if body.password is not None:
            people.reset_password(session, admin, user_id, body.password)
    return _user(user)


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    prefix: str
    scopes: list[str]
    org_unit_id: int
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    scopes: list[str] = Field(min_length=1)
    org_unit_id: int


class ApiKeyCreated(ApiKeyPublic):
    key: str


@router.get("/api-keys")
def list_api_keys(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[ApiKeyPublic]:
    admin_of(principal)
    rows, count = people.visible_keys(
        session, principal.scope, limit=page.limit, offset=page.offset
    )
    data = [ApiKeyPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.post("/api-keys", status_code=201)
def create_api_key(
    body: ApiKeyCreate, principal: CurrentPrincipal, session: SessionDep
) -> ApiKeyCreated:
    """The full key is in this response only; it is stored hashed."""
    admin = admin_of(principal)
    with admin_errors():
        key, row = people.add_api_key(
            session,
            admin,
            name=body.name,
            scopes=body.scopes,
            unit_id=body.org_unit_id,
            creator=principal.user,
        )
    session.flush()
    return ApiKeyCreated(**ApiKeyPublic.model_validate(row).model_dump(), key=key)


@router.delete("/api-keys/{key_id}", status_code=204)
def revoke_api_key(key_id: int, principal: CurrentPrincipal, session: SessionDep) -> Response:
    admin = admin_of(principal)
    with admin_errors():
        people.revoke_api_key(session, admin, key_id)
    return Response(status_code=204)
