"""Helpers shared by the act API routers (rules, cases, messages, backlog, notifications)."""

from __future__ import annotations

from fastapi import BackgroundTasks
from huey import Huey
from sqlalchemy.orm import Session

from cxloop.act.cases import Author
from cxloop.act.notify import new_deliveries
from cxloop.config import Settings
from cxloop.jobs import enqueue
from cxloop.store.models.act import BacklogItem, Endpoint
from cxloop.store.scope import Scope, scoped_get
from cxloop.web.deps import Principal
from cxloop.web.errors import ApiError, visible_or_404


def author(principal: Principal) -> Author:
    return Author(principal.user.id if principal.user else None, principal.actor.label)


def send_after_commit(background: BackgroundTasks, huey: Huey, session: Session) -> None:
    """Queue the notifications created by this request once its transaction has committed
    (background tasks run after the response, the transaction ends before it)."""
    for delivery_id in new_deliveries(session):
        background.add_task(enqueue, huey, "act_send_delivery", delivery_id)


def require_private_flag(principal: Principal, allow_private: bool | None) -> None:
    """Only an admin may let an endpoint reach private or loopback addresses."""
    if allow_private and principal.role != "admin":
        raise ApiError(
            403, "only an admin may allow private or loopback addresses", field="allow_private"
        )


def backlog_link(settings: Settings, item: BacklogItem) -> str:
    """The item's page, for the external issue to link back to."""
    return f"{settings.base_url.rstrip('/')}/act/backlog/{item.id}"


def active_endpoint(session: Session, scope: Scope, endpoint_id: int | None) -> Endpoint:
    """An active endpoint in scope, or a 404 naming ``endpoint_id``; ``None`` is an item
    that was never exported (409)."""
    if endpoint_id is None:
        raise ApiError(409, "this item has not been exported yet", field="endpoint_id")
    endpoint = scoped_get(session, scope, Endpoint, endpoint_id)
    if endpoint is None or not endpoint.is_active:
        raise ApiError(404, f"endpoint {endpoint_id} not found", field="endpoint_id")
    return endpoint


def backlog_item(principal: Principal, session: Session, item_id: int) -> BacklogItem:
    """A backlog item the caller may read, or a 404."""
    principal.require("cases:read")
    item = visible_or_404(session, principal.scope, BacklogItem, item_id, "backlog item")
    return item
