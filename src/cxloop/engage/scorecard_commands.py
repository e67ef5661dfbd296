"""``cxloop metrics rollup``: rebuild the pre-aggregated figures the scorecard reads."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

metrics_app = typer.Typer(help="CX and operational metrics.", no_args_is_help=True)


@metrics_app.command("rollup")
def rollup(
    since: Annotated[str, typer.Option(help="First day (YYYY-MM-DD) of CX rollups to rebuild.")],
    until: Annotated[str | None, typer.Option(help="Day after the last; default tomorrow.")] = None,
) -> None:
    """Recompute CX rollups (responses, feedback, sessions) and all metric rollups."""
    from cxloop.cli import console, err, prepared_settings
    from cxloop.engage.cx_metrics import refresh_rollups
    from cxloop.signals.metrics_rollup import rebuild_all
    from cxloop.store.engine import session_scope

    try:
        start = date.fromisoformat(since)
        end = date.fromisoformat(until) if until else date.today() + timedelta(days=1)
    except ValueError as exc:
        err.print(f"[red]--since/--until: {exc}[/red]")
        raise typer.Exit(2) from None
    s = prepared_settings()
    with session_scope(s.resolved_database_url) as session:
        day = start
        while day < end:  # a month at a time keeps each statement small
            nxt = min(end, day + timedelta(days=31))
            written = refresh_rollups(session=session, since=day, until=nxt)
            console.print(f"{day}..{nxt}: {written}")
            day = nxt
        console.print(f"metric rollups: {rebuild_all(session=session)} rows")


def register(*, app: typer.Typer, import_app: typer.Typer) -> None:
    app.add_typer(metrics_app, name="metrics")
