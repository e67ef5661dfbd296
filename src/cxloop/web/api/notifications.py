"""Notification endpoints (e-mail, signed webhooks, chat, GitHub, Jira) and the delivery log
with its dead-letter list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cxloop.act import notify
from cxloop.act.views import shown_target
from cxloop.jobs import enqueue
from cxloop.store.models.act import Delivery, Endpoint
from cxloop.store.scope import scoped_page
from cxloop.web.api._act_common import require_private_flag
from cxloop.web.deps import CurrentPrincipal, HueyDep, Pagination, SessionDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["notifications"])


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    org_unit_id: int
    kind: Literal["email", "webhook", "chat", "github", "jira"]
    target: str = Field(min_length=3, max_length=2000)
    project: str | None = Field(None, max_length=200)
    secret: str | None = Field(None, max_length=500)
    username: str | None = Field(None, max_length=200)
    allow_private: bool = False


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=200)
    target: str | None = Field(None, min_length=3, max_length=2000)
    is_active: bool | None = None
    allow_private: bool | None = None


# A URL target is returned only up to its host: chat webhook URLs carry their secret in the
# path, and secrets are shown once, when they are given.
ShownTarget = Annotated[str, AfterValidator(shown_target)]


class EndpointPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    org_unit_id: int
    kind: str
    target: ShownTarget
    project: str | None
    allow_private: bool
    is_active: bool
    created_at: datetime


class EndpointCreated(EndpointPublic):
    secret: str | None = Field(description="the webhook signing secret, shown once")


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    endpoint_id: int | None
    channel: str
    target: ShownTarget
    event: str
    subject: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]


@router.get("/notifications/endpoints")
def list_endpoints(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination
) -> Page[EndpointPublic]:
    principal.require("rules:admin")
    rows, count = scoped_page(
        session, principal.scope, Endpoint, limit=page.limit, offset=page.offset
    )
    return Page(
        data=[EndpointPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/notifications/endpoints", status_code=201)
def create_endpoint(
    body: EndpointCreate, principal: CurrentPrincipal, session: SessionDep
) -> EndpointCreated:
    principal.require("rules:admin")
    require_private_flag(principal, body.allow_private)
    if not principal.scope.contains(session, body.org_unit_id):
        raise ApiError(404, f"org unit {body.org_unit_id} not found", field="org_unit_id")
    try:
        endpoint = notify.create_endpoint(session=session, **body.model_dump())
    except notify.EndpointError as exc:
        raise ApiError(422, exc.message, field=exc.field) from None
    return EndpointCreated.model_validate(endpoint)


@router.patch("/notifications/endpoints/{endpoint_id}")
def update_endpoint(
    endpoint_id: int, body: EndpointUpdate, principal: CurrentPrincipal, session: SessionDep
) -> EndpointPublic:
    principal.require("rules:admin")
    endpoint = visible_or_404(session, principal.scope, Endpoint, endpoint_id, "endpoint")
    changes = body.model_dump(exclude_unset=True)
    require_private_flag(principal, changes.get("allow_private"))
    try:
        notify.update_endpoint(session=session, endpoint=endpoint, changes=changes)
    except notify.EndpointError as exc:
        raise ApiError(422, exc.message, field=exc.field) from None
    return EndpointPublic.model_validate(endpoint)


@router.get("/notifications/deliveries")
def list_deliveries(
    principal: CurrentPrincipal,
    session: SessionDep,
    page: Pagination,
    status: Literal["pending", "sent", "dead"] | None = None,
) -> Page[DeliveryPublic]:
    """The delivery log; ``status=dead`` is the dead-letter list."""
    principal.require("rules:admin")
    filters = [Delivery.status == status] if status else []
    rows, count = scoped_page(
        session, principal.scope, Delivery, filters=filters, limit=page.limit, offset=page.offset
    )
    return Page(
        data=[DeliveryPublic.model_validate(r) for r in rows],
        count=count,
        limit=page.limit,
        offset=page.offset,
    )


@router.post("/notifications/deliveries/{delivery_id}/resend")
def resend_delivery(
    delivery_id: int,
    principal: CurrentPrincipal,
    session: SessionDep,
    huey: HueyDep,
    background: BackgroundTasks,
) -> DeliveryPublic:
    principal.require("rules:admin")
    delivery = visible_or_404(session, principal.scope, Delivery, delivery_id, "delivery")
    if delivery.status == "sent":
        raise ApiError(409, "this delivery was already sent", field="status")
    notify.resend(session=session, delivery=delivery)
    background.add_task(enqueue, huey, "act_send_delivery", delivery.id)
    return DeliveryPublic.model_validate(delivery)
