"""``cxloop surveys ...``: list surveys, start a wave, run the dispatcher and reminders;
``cxloop import events FILE``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

surveys_app = typer.Typer(help="Surveys: waves, invitations, reminders.", no_args_is_help=True)


@surveys_app.command("list")
def list_surveys() -> None:
    """Surveys with their status, version and response counts."""
    from rich.table import Table
    from sqlalchemy import func, select

    from cxloop.cli import console, prepared_settings
    from cxloop.signals.surveys import title_in
    from cxloop.store.engine import session_scope
    from cxloop.store.models.surveys import Survey, SurveyResponse, SurveyVersion

    s = prepared_settings()
    table = Table("id", "key", "kind", "status", "version", "responses", "title")
    with session_scope(s.resolved_database_url) as session:
        counts = dict(
            session.execute(
                select(SurveyResponse.survey_id, func.count())
                .where(SurveyResponse.status == "complete")
                .group_by(SurveyResponse.survey_id)
            ).all()
        )
        numbers = dict(session.execute(select(SurveyVersion.id, SurveyVersion.number)).all())
        for sv in session.scalars(select(Survey).order_by(Survey.id)):
            table.add_row(
                str(sv.id),
                sv.key,
                sv.kind,
                sv.status,
                f"v{numbers.get(sv.current_version_id or 0, '?')}",
                str(counts.get(sv.id, 0)),
                title_in(sv, s.default_language),
            )
    console.print(table)


@surveys_app.command("wave")
def start_wave(
    program: Annotated[str, typer.Argument(help="Program key, e.g. yearly-nps.")],
    wave: Annotated[str, typer.Option(help="Wave label, e.g. 2026 or 2026-Q3.")],
    send_at: Annotated[str | None, typer.Option(help="ISO time with offset; default now.")] = None,
) -> None:
    """Plan a relationship wave (contact policy per customer) or start a pulse wave."""
    from sqlalchemy import select

    from cxloop.cli import console, err, prepared_settings
    from cxloop.signals.survey_waves import run_pulse_wave, run_relationship_wave
    from cxloop.store.engine import session_scope
    from cxloop.store.models.surveys import SurveyProgram

    s = prepared_settings()
    when = datetime.now(UTC)
    if send_at:
        try:
            when = datetime.fromisoformat(send_at)
        except ValueError:
            err.print(f"[red]--send-at: {send_at!r} is not an ISO date-time[/red]")
            raise typer.Exit(2) from None
        if when.tzinfo is None:
            err.print("[red]--send-at: give a time zone offset, e.g. +09:00[/red]")
            raise typer.Exit(2)
    try:
        with session_scope(s.resolved_database_url) as session:
            row = session.scalar(select(SurveyProgram).where(SurveyProgram.key == program))
            if row is None:
                err.print(f"[red]no survey program with key {program!r}[/red]")
                raise typer.Exit(2)
            summary: Any
            if row.kind == "pulse":
                summary = run_pulse_wave(
                    session=session,
                    program=row,
                    wave=wave,
                    now=when,
                    default_language=s.default_language,
                )
            elif row.kind == "relationship":
                summary = run_relationship_wave(
                    session=session,
                    program=row,
                    send_at=when,
                    wave=wave,
                    default_language=s.default_language,
                )
            else:
                err.print("[red]transactional programs are started by events[/red]")
                raise typer.Exit(2)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"wave {summary.wave} of {summary.program}: {summary.planned} invitations")
    for reason, n in sorted(summary.counts.items()):
        console.print(f"  {reason}: {n}")


@surveys_app.command("dispatch")
def dispatch() -> None:
    """Decide and send due invitations now (the job the worker runs every minute)."""
    from cxloop.cli import console, prepared_settings
    from cxloop.jobs import JobContext
    from cxloop.signals.survey_tasks import dispatch_survey_invitations

    console.print(dispatch_survey_invitations(JobContext(prepared_settings())))


@surveys_app.command("remind")
def remind() -> None:
    """Send the reminders that are due now (the worker does this hourly)."""
    from cxloop.cli import console, prepared_settings
    from cxloop.jobs import JobContext
    from cxloop.signals.survey_tasks import send_survey_reminders

    console.print(send_survey_reminders(JobContext(prepared_settings())))


def import_events(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSONL.")],
    unit: Annotated[str | None, typer.Option(help="Org-unit code for rows without one.")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or xlsx.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Force an encoding (default: UTF-8, BOM or Shift_JIS).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 500,
    errors: Annotated[
        Path | None, typer.Option(help="Write every rejected row (line, field, reason) here.")
    ] = None,
) -> None:
    """Import operational events as POST /api/v1/events does; importing again adds nothing."""
    from contextlib import ExitStack

    from cxloop.cli import console, err, prepared_settings
    from cxloop.signals.feedback_commands import import_outputs, print_report
    from cxloop.signals.feedback_files import FileFormatError, file_format
    from cxloop.signals.survey_event_import import import_events as run_import

    try:
        kind = file_format(file, fmt)
    except FileFormatError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    s = prepared_settings()
    with ExitStack() as stack:
        errors_fh, progress, advance = import_outputs(stack, console, file, kind, errors)
        try:
            report = run_import(
                file,
                database_url=s.resolved_database_url,
                default_language=s.default_language,
                default_unit=unit,
                fmt=kind,
                encoding=encoding,
                batch_size=batch_size,
                progress=advance,
                errors_to=errors_fh,
            )
        except (FileFormatError, UnicodeError, LookupError) as exc:
            progress.stop()
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    print_report(console, report, errors)
    console.print(
        f"invitations created: {report.invitations}  customers created: {report.customers_created}"
    )
    if report.rejected and not (report.imported or report.duplicates):
        raise typer.Exit(1)


def register(*, app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(surveys_app, name="surveys")
    import_app.command("events")(import_events)
