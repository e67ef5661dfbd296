"""Helpers shared by the act API routers (rules, cases, messages, backlog, notifications)."""

from __future__ import annotations

from fastapi import BackgroundTasks
from huey import Huey
from sqlalchemy.orm import Session

from cxloop.act.cases import Author
from cxloop.act.notify import new_deliveries
from cxloop.jobs import enqueue
from cxloop.web.deps import Principal


def author(principal: Principal) -> Author:
    return Author(principal.user.id if principal.user else None, principal.actor.label)


def send_after_commit(background: BackgroundTasks, huey: Huey, session: Session) -> None:
    """Queue the notifications created by this request once its transaction has committed
    (background tasks run after the response, the transaction ends before it)."""
    for delivery_id in new_deliveries(session):
        background.add_task(enqueue, huey, "act_send_delivery", delivery_id)
