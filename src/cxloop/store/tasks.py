"""Housekeeping jobs for the store."""

from __future__ import annotations

from cxloop.jobs import JobContext, periodic
from cxloop.store import audit


@periodic(minute="17", hour="3")
def audit_retention_sweep(ctx: JobContext) -> int:
    """Delete audit entries older than ``CXLOOP_AUDIT_RETENTION_DAYS``."""
    with ctx.session() as session:
        return audit.sweep(session, ctx.settings.audit_retention_days)
