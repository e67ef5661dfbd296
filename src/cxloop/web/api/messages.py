"""Praise and fix-it messages: send one, the recognition feed, and what was said to me."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import BaseModel, ConfigDict, Field

from cxloop.act import messages, routing
from cxloop.store.models.org import OrgUnit, User
from cxloop.web.api._act_common import send_after_commit
from cxloop.web.deps import CurrentPrincipal, HueyDep, Pagination, SessionDep
from cxloop.web.errors import ApiError
from cxloop.web.schemas import Page

router = APIRouter(tags=["messages"])


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["praise", "fix_it"]
    recipient_user_id: int
    org_unit_id: int
    body: str = Field(min_length=1, max_length=5000)
    record_kind: str | None = Field(None, max_length=32)
    record_id: str | None = Field(None, max_length=64)
    quote: str | None = Field(None, max_length=2000)


class MessagePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    org_unit_id: int
    unit_name: str
    recipient_user_id: int
    recipient_name: str
    sender_name: str | None
    body: str
    quote: str | None
    record_kind: str | None
    record_id: str | None
    created_at: datetime


@router.get("/messages")
def recognition_feed(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    kind: Literal["praise", "fix_it", "all"] = "praise",
) -> Page[MessagePublic]:
    """Messages about the units in scope (the recognition feed by default)."""
    principal.require("feedback:read")
    rows = messages.recognition_feed(
        session=session,
        scope=principal.scope,
        kind=None if kind == "all" else kind,
        limit=page.limit,
        offset=page.offset,
        lang=principal.language,
    )
    data = [MessagePublic.model_validate(r) for r in rows]
    count = messages.feed_count(
        session=session, scope=principal.scope, kind=None if kind == "all" else kind
    )
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)


@router.get("/messages/mine")
def my_messages(principal: CurrentPrincipal, session: SessionDep) -> list[MessagePublic]:
    if principal.user is None:
        raise ApiError(403, "only a signed-in person has messages")
    rows = messages.messages_for(session=session, user=principal.user, lang=principal.language)
    return [MessagePublic.model_validate(r) for r in rows]


@router.post("/messages", status_code=201)
def send_message(
    body: MessageCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> MessagePublic:
    """Anyone signed in may praise or ask to fix something, about a unit they can see."""
    if principal.user is None:
        raise ApiError(403, "messages are sent by people, not API keys")
    unit = session.get(OrgUnit, body.org_unit_id)
    if unit is None or not principal.scope.contains(session, unit.id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    recipient = session.get(User, body.recipient_user_id)
    if (
        recipient is None
        or not recipient.is_active
        or not routing.user_covers(session, recipient, unit)
    ):
        raise ApiError(422, "recipient does not work in that org unit", field="recipient_user_id")
    try:
        message = messages.send_message(
            session=session,
            kind=body.kind,
            recipient=recipient,
            unit=unit,
            body=body.body,
            sender=principal.user,
            quote=body.quote,
            record_kind=body.record_kind,
            record_id=body.record_id,
        )
    except messages.MessageError as exc:
        raise ApiError(422, exc.message, field=exc.field) from None
    send_after_commit(background, huey, session)
    view = messages.messages_for(session=session, user=recipient, lang=principal.language)
    return MessagePublic.model_validate(next(v for v in view if v.id == message.id))
