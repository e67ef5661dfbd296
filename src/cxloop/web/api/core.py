"""The caller, org units and the audit log (users and API keys: ``admin.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from cxloop.store import audit
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import scoped_page
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep
from cxloop.web.errors import visible_or_404
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
    unit = visible_or_404(
        session, principal.scope, OrgUnit, unit_id, "org unit", unit_column=OrgUnit.id
    )
    return OrgUnitPublic.model_validate(unit)


@router.get("/audit")
def list_audit(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditPublic]:
    principal.require("audit:read")
    rows, count = audit.search(
        session,
        principal.scope,
        action=action,
        actor=actor,
        since=since,
        until=until,
        limit=page.limit,
        offset=page.offset,
    )
    data = [AuditPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)
