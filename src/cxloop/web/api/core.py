"""The caller, org units, users and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from cxloop.store import audit
from cxloop.store.models.auth import AuditEntry
from cxloop.store.models.org import OrgUnit, User, UserUnit
from cxloop.store.org import set_user_access
from cxloop.store.scope import scoped_get, scoped_page
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep
from cxloop.web.errors import ApiError, NotFound
from cxloop.web.schemas import Page

router = APIRouter(tags=["core"])


class MePublic(BaseModel):
    kind: str
    id: int
    name: str
    role: str
    language: str
    permissions: list[str]
    unit_ids: list[int]


class OrgUnitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    parent_id: int | None
    kind: str
    code: str
    name: str
    name_ja: str | None
    timezone: str


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    role: str
    language: str | None
    is_active: bool
    unit_ids: list[int]


class UserAccessUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    unit_ids: list[int] = Field(min_length=1)


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_label: str
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    detail: dict[str, Any]


@router.get("/me")
def me(principal: CurrentPrincipal) -> MePublic:
    if principal.user is not None:
        u = principal.user
        return MePublic(
            kind="user",
            id=u.id,
            name=u.name,
            role=u.role,
            language=principal.language,
            permissions=sorted(principal.permissions),
            unit_ids=u.unit_ids,
        )
    assert principal.api_key is not None
    k = principal.api_key
    return MePublic(
        kind="api_key",
        id=k.id,
        name=k.name,
        role="api_key",
        language=principal.language,
        permissions=sorted(principal.permissions),
        unit_ids=[k.org_unit_id],
    )


@router.get("/org-units")
def list_units(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[OrgUnitPublic]:
    principal.require("org:read")
    rows, count = scoped_page(
        session,
        principal.scope,
        OrgUnit,
        unit_column=OrgUnit.id,
        order_by=OrgUnit.path,
        limit=page.limit,
        offset=page.offset,
    )
    data = [OrgUnitPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/org-units/{unit_id}")
def get_unit(unit_id: int, principal: CurrentPrincipal, session: SessionDep) -> OrgUnitPublic:
    principal.require("org:read")
    unit = scoped_get(session, principal.scope, OrgUnit, unit_id, unit_column=OrgUnit.id)
    if unit is None:
        raise NotFound("org unit")
    return OrgUnitPublic.model_validate(unit)


def _visible_users_filter(principal: CurrentPrincipal) -> Any:
    # A user is visible when one of their units is.
    return User.id.in_(
        select(UserUnit.user_id).where(principal.scope.condition(UserUnit.org_unit_id))
    )


@router.get("/users")
def list_users(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[UserPublic]:
    principal.require("users:admin")
    base = select(User).where(_visible_users_filter(principal))
    from sqlalchemy import func

    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.scalars(base.order_by(User.id).limit(page.limit).offset(page.offset)).all()
    data = [UserPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.put("/users/{user_id}/access")
def update_access(
    user_id: int, body: UserAccessUpdate, principal: CurrentPrincipal, session: SessionDep
) -> UserPublic:
    principal.require("users:admin")
    user = session.scalar(select(User).where(User.id == user_id, _visible_users_filter(principal)))
    if user is None:
        raise NotFound("user")
    for unit_id in body.unit_ids:
        if not principal.scope.contains(session, unit_id):
            raise ApiError(404, f"org unit {unit_id} not found", field="unit_ids")
    before = {"role": user.role, "unit_ids": user.unit_ids}
    try:
        set_user_access(session=session, user=user, role=body.role, unit_ids=body.unit_ids)
    except ValueError as exc:
        raise ApiError(422, str(exc), field="role") from None
    audit.record(
        session,
        principal.actor,
        "permission_change",
        target_type="user",
        target_id=user.id,
        before=before,
        after={"role": user.role, "unit_ids": body.unit_ids},
    )
    return UserPublic.model_validate(user)


@router.get("/audit")
def list_audit(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, action: str | None = None
) -> Page[AuditPublic]:
    principal.require("audit:read")
    filters = [AuditEntry.action == action] if action else []
    # Entries with no unit (logins, system) are visible to auditors of the whole company only.
    rows, count = scoped_page(
        session,
        principal.scope,
        AuditEntry,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
        unit_column=_audit_unit(),
    )
    data = [AuditPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


def _audit_unit() -> Any:
    from sqlalchemy import func

    root = select(OrgUnit.id).where(OrgUnit.parent_id.is_(None)).limit(1).scalar_subquery()
    return func.coalesce(AuditEntry.org_unit_id, root)
