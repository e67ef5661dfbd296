"""Scheduled scorecard work: CX rollups of marked and recent days, and the digests."""

from __future__ import annotations

from datetime import timedelta

from cxloop.engage.cx_dirty import refresh_dirty
from cxloop.engage.cx_metrics import refresh_rollups
from cxloop.engage.digest import due_subscriptions, send_digest
from cxloop.jobs import JobContext, periodic
from cxloop.store.base import utcnow


@periodic(minute="*")
def refresh_dirty_cx_days(ctx: JobContext) -> dict[str, int]:
    """Every minute: recompute the days that stored records marked stale."""
    with ctx.session() as session:
        return refresh_dirty(session=session)


@periodic(minute="17")
def refresh_cx_rollups(ctx: JobContext) -> dict[str, int]:
    """Hourly safety net: the last two days again, for writes that mark nothing (a
    feedback record's sentiment filled in later, a session that closed unfrustrated)."""
    today = utcnow().date()
    with ctx.session() as session:
        return refresh_rollups(
            session=session, since=today - timedelta(days=2), until=today + timedelta(days=1)
        )


@periodic(day_of_week="1", hour="7", minute="0")
def send_scorecard_digests(ctx: JobContext) -> dict[str, list[str]]:
    """Every Monday 07:00: send each due digest subscription."""
    report: dict[str, list[str]] = {"sent": [], "failed": []}
    now = utcnow()
    with ctx.session() as session:
        for sub in due_subscriptions(session, now):
            result = send_digest(session=session, settings=ctx.settings, sub=sub)
            report["sent"] += result.sent
            report["failed"] += result.failed
    return report
