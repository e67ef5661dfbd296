"""Digest subscriptions of the scorecard: list, create, send now."""

from __future__ import annotations

from datetime import date, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from cxloop.engage.digest import DigestCreate, create_subscription, send_digest
from cxloop.store.models.scorecard import DigestSubscription
from cxloop.web.deps import CurrentPrincipal, SessionDep, SettingsDep
from cxloop.web.errors import ApiError, visible_or_404

router = APIRouter(tags=["scorecard"])


class DigestPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    org_unit_id: int
    cadence: str
    member_ids: list[int]
    active: bool
    last_sent_at: datetime | None


class DigestSent(BaseModel):
    sent: list[str]
    failed: list[str]


@router.get("/scorecard/digests")
def list_digests(principal: CurrentPrincipal, session: SessionDep) -> list[DigestPublic]:
    principal.require("scorecard:read")
    rows = session.scalars(
        select(DigestSubscription)
        .where(principal.scope.condition(DigestSubscription.org_unit_id))
        .order_by(DigestSubscription.id)
    )
    return [DigestPublic.model_validate(r) for r in rows]


@router.post("/scorecard/digests", status_code=201)
def add_digest(
    body: DigestCreate, principal: CurrentPrincipal, session: SessionDep
) -> DigestPublic:
    principal.require("scorecard:write")
    if not principal.scope.contains(session, body.org_unit_id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    try:
        sub = create_subscription(session=session, data=body)
    except ValueError as exc:
        raise ApiError(422, str(exc), field="member_ids") from None
    return DigestPublic.model_validate(sub)


@router.post("/scorecard/digests/{digest_id}/send")
def send_now(
    digest_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    period: str | None = None,
    start: date | None = None,
) -> DigestSent:
    """Send the digest now (e.g. to check it before the Monday run)."""
    principal.require("scorecard:write")
    sub = visible_or_404(session, principal.scope, DigestSubscription, digest_id, "digest")
    if period is not None and period not in ("week", "month", "quarter"):
        raise ApiError(422, "period must be week, month or quarter", field="period")
    result = send_digest(session=session, settings=settings, sub=sub, period=period, start=start)
    return DigestSent(sent=result.sent, failed=result.failed)
