"""Background jobs of the feedback area: re-analysis and theme discovery."""

from __future__ import annotations

from cxloop.jobs import JobContext, task
from cxloop.signals.feedback_jobs import run_job


@task(retries=0)
def feedback_job(ctx: JobContext, job_id: int) -> None:
    """Run a queued feedback job (re-analysis or discovery); progress is on the job row."""
    run_job(ctx.settings.resolved_database_url, job_id)
