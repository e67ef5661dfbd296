"""Jobs of the act area: send notifications (with retries) and escalate overdue cases."""

from __future__ import annotations

from cxloop.act import escalation, notify
from cxloop.jobs import JobContext, periodic, task
from cxloop.store.base import utcnow
from cxloop.store.models.act import Delivery


@task(retries=0)
def act_send_delivery(ctx: JobContext, delivery_id: int) -> str:
    """Attempt one queued notification now; failures are rescheduled in the delivery row."""
    with ctx.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return "skipped"
        return notify.attempt(session=session, settings=ctx.settings, delivery=delivery).status


@periodic(minute="*")
def act_send_due_deliveries(ctx: JobContext) -> int:
    """Send every pending notification whose next attempt is due (the retry loop)."""
    now = utcnow()
    with ctx.session() as session:
        ids = notify.due_deliveries(session, now)
    for delivery_id in ids:
        act_send_delivery(ctx, delivery_id)
    return len(ids)


@periodic(minute="*/5")
def act_escalate_overdue_cases(ctx: JobContext) -> int:
    with ctx.session() as session:
        return len(escalation.escalate_overdue(session=session))
