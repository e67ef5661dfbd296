"""Operational events that trigger transactional surveys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from cxloop.signals.survey_events import EventCreate, EventError, record_event
from cxloop.store.models.surveys import SurveyEvent
from cxloop.store.scope import scoped_page
from cxloop.web.api.survey_responses import InvitationPublic
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep, SettingsDep
from cxloop.web.errors import ApiError
from cxloop.web.schemas import Page

router = APIRouter(tags=["surveys"])


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    type: str
    org_unit_id: int
    external_id: str | None
    customer_id: int | None
    touchpoint: str | None
    occurred_at: datetime
    attributes: dict[str, Any]
    received_at: datetime


class EventAccepted(BaseModel):
    event: EventPublic
    duplicate: bool
    customer_created: bool
    invitations: list[InvitationPublic]


@router.post("/events", status_code=201)
def post_event(
    body: EventCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> EventAccepted:
    """Record an event; each matching transactional program gets a pending invitation,
    decided by the contact policy once the program's delay has passed."""
    principal.require("surveys:write")
    if not principal.scope.contains(session, body.org_unit_id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    try:
        result = record_event(
            session=session, data=body, default_language=settings.default_language
        )
    except EventError as exc:
        raise ApiError(422, f"{exc.field}: {exc}", field=exc.field) from None
    if result.duplicate:
        response.status_code = 200
    return EventAccepted(
        event=EventPublic.model_validate(result.event),
        duplicate=result.duplicate,
        customer_created=result.customer_created,
        invitations=[InvitationPublic.model_validate(i) for i in result.invitations],
    )


@router.get("/events")
def list_events(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, type: str | None = None
) -> Page[EventPublic]:
    principal.require("surveys:read")
    filters = [SurveyEvent.type == type] if type else []
    rows, count = scoped_page(
        session,
        principal.scope,
        SurveyEvent,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
    )
    data = [EventPublic.model_validate(r) for r in rows]
    return Page(data=data, count=count, limit=page.limit, offset=page.offset)
