"""The safety net for invitations nobody is moving on: after a crash, a lost job or a
database restore, an invitation can sit ``pending`` (or ``scheduled``, or ``sending``
never tried) long after it fell due. The sweep finds those and queues one send job each;
the job decides and sends through the same claims as the dispatcher, so an invitation
queued twice, or swept while the dispatcher has it, is still sent once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxloop.signals.survey_invitations import decide_invitation, retry_backoff
from cxloop.store.models.surveys import SurveyInvitation

# The dispatcher runs every minute; what it has not moved on after this is stuck.
STUCK_AFTER = timedelta(minutes=10)


def stuck_invitations(
    *, session: Session, now: datetime, grace: timedelta = STUCK_AFTER
) -> list[int]:
    """Invitations due before ``now - grace`` that still wait for a decision or a send."""
    before = now - grace
    rows = session.execute(
        select(SurveyInvitation.id, SurveyInvitation.attempts, SurveyInvitation.last_attempt_at)
        .where(
            SurveyInvitation.due_at <= before,
            SurveyInvitation.status.in_(("pending", "scheduled", "sending")),
        )
        .order_by(SurveyInvitation.due_at, SurveyInvitation.id)
    ).all()
    return [
        i
        for i, attempts, last in rows
        # A send that failed waits for its back-off; only one overdue by `grace` is stuck.
        if last is None or last <= before - retry_backoff(attempts)
    ]


def advance_invitation(
    *, session: Session, invitation_id: int, now: datetime, default_zone: str = "UTC"
) -> str:
    """Move one invitation as far as it may go now: a pending one gets its contact-policy
    decision, a scheduled one that is due goes to ``sending``. Returns the new status."""
    inv = session.get(SurveyInvitation, invitation_id)
    if inv is None:
        return "missing"
    # Each step is a conditional status transition, the first write of its transaction:
    # of two jobs racing here one moves the row on, the other finds it moved.
    if _transition(session, inv, "pending", "deciding", now):
        decide_invitation(session=session, inv=inv, default_zone=default_zone)  # never stays
        session.flush()
    if inv.status == "scheduled":
        _transition(session, inv, "scheduled", "sending", now)
    return inv.status


def _transition(
    session: Session, inv: SurveyInvitation, from_status: str, to_status: str, now: datetime
) -> bool:
    taken = session.execute(
        update(SurveyInvitation)
        .where(
            SurveyInvitation.id == inv.id,
            SurveyInvitation.status == from_status,
            SurveyInvitation.due_at <= now,
        )
        .values(status=to_status)
        .execution_options(synchronize_session=False)
    )
    session.refresh(inv)
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]
