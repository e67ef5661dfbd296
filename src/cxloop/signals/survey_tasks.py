"""Survey jobs: decide and send due invitations, re-queue stuck ones, remind
non-responders, start waves."""

from __future__ import annotations

from cxloop.jobs import JobContext, periodic, task
from cxloop.mail import MailError
from cxloop.store.base import utcnow


@task(retries=5, retry_delay=60)
def send_survey_invitation(ctx: JobContext, invitation_id: int) -> str:
    """Decide (if still pending) and send one due invitation; an SMTP failure is recorded
    on the row, then retried. Queued twice, it still sends once."""
    from cxloop.signals.survey_mail import deliver_invitation
    from cxloop.signals.survey_sweep import advance_invitation

    with ctx.session() as s:
        advance_invitation(session=s, invitation_id=invitation_id, now=utcnow())
    with ctx.session() as s:
        result = deliver_invitation(
            session=s, settings=ctx.settings, invitation_id=invitation_id, now=utcnow()
        )
    if result.outcome == "retry":
        raise MailError(result.detail)
    return result.outcome


@periodic(minute="*")
def survey_comments_to_feedback(ctx: JobContext) -> int:
    """Turn new survey comments into feedback records (sentiment, themes), in batches."""
    from cxloop.signals.survey_responses import comments_to_feedback

    total = 0
    while True:
        with ctx.session() as s:
            done = comments_to_feedback(session=s)
        total += done
        if done == 0:
            return total


@periodic(minute="*")
def dispatch_survey_invitations(ctx: JobContext) -> dict[str, int]:
    """Apply the contact policy to due invitations and send those that may go out.

    Each send commits on its own, so one failure never undoes another's record; a failed
    send stays in ``sending`` and a later run tries it again after a back-off.
    """
    from cxloop.signals.survey_invitations import dispatch_due
    from cxloop.signals.survey_mail import deliver_invitation

    with ctx.session() as s:
        ids = dispatch_due(session=s, now=utcnow())
    outcomes: dict[str, int] = {}
    for invitation_id in ids:
        with ctx.session() as s:
            result = deliver_invitation(
                session=s, settings=ctx.settings, invitation_id=invitation_id, now=utcnow()
            )
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return outcomes


@periodic(minute="*/10")
def requeue_stuck_invitations(ctx: JobContext) -> dict[int, str]:
    """Queue a send job for each invitation left behind past its send time (a crash, a
    lost job, a restored database); returns invitation id → queued task id."""
    from cxloop.jobs import enqueue
    from cxloop.signals.survey_sweep import stuck_invitations

    with ctx.session() as s:
        ids = stuck_invitations(session=s, now=utcnow())
    if ctx.huey is None:  # run by hand (`cxloop jobs run ...`): send in this process
        return {i: _send_now(ctx, i) for i in ids}
    return {i: enqueue(ctx.huey, "send_survey_invitation", i).id for i in ids}


def _send_now(ctx: JobContext, invitation_id: int) -> str:
    try:
        return send_survey_invitation(ctx, invitation_id)
    except MailError:
        return "retry"  # recorded on the row; the dispatcher tries again after the back-off


@periodic(minute="7")
def send_survey_reminders(ctx: JobContext) -> dict[str, int]:
    """Remind non-responders once, N days after the invitation (per program)."""
    from cxloop.signals.survey_mail import deliver_reminder, due_reminders

    with ctx.session() as s:
        ids = due_reminders(session=s, now=utcnow())
    outcomes: dict[str, int] = {}
    for invitation_id in ids:
        with ctx.session() as s:
            result = deliver_reminder(
                session=s, settings=ctx.settings, invitation_id=invitation_id, now=utcnow()
            )
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    return outcomes


@periodic(minute="15")
def start_survey_waves(ctx: JobContext) -> int:
    """Start relationship and pulse waves that fell due; their invitations go out next."""
    from cxloop.signals.survey_waves import run_due_waves

    with ctx.session() as s:
        done = run_due_waves(
            session=s,
            now=utcnow(),
            default_zone="UTC",
            default_language=ctx.settings.default_language,
        )
    return len(done)


@periodic(minute="*")
def publish_survey_responses(ctx: JobContext) -> int:
    """Hand completed survey responses to the listeners (alert rules, scorecard) in
    batches. Nudged by the form after each submit; every minute it picks up any left behind
    (a crash, a lost job)."""
    from cxloop.signals.survey_publish import BATCH, publish_pending
    from cxloop.store.engine import write_turn

    total = 0
    while True:
        # Each batch is one short write: the form's submits in this process wait for it
        # without SQLite's sleeps.
        with write_turn(ctx.settings.resolved_database_url), ctx.session() as s:
            done = publish_pending(session=s)
        total += done
        if done < BATCH:
            return total
