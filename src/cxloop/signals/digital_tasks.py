"""Background work for digital sessions: close and score those idle for 30 minutes."""

from __future__ import annotations

from cxloop.jobs import JobContext, periodic
from cxloop.signals.digital_sessions import close_idle_sessions


@periodic(minute="*/5")
def close_digital_sessions(ctx: JobContext) -> int:
    """Score and close every session without a batch for 30 minutes; returns how many."""
    with ctx.session() as session:
        return close_idle_sessions(session=session)
