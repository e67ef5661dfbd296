"""``cxloop import metrics FILE``: operational and financial metric points from CSV / XLSX."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def import_metrics(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (UTF-8) or XLSX with metric, unit, period, period_start, value columns."
        ),
    ],
    source: Annotated[str, typer.Option(help="Label stored with each point.")] = "import",
) -> None:
    """Import metric points; re-importing the same file changes nothing (upsert)."""
    from rich.progress import Progress
    from sqlalchemy import select

    from cxloop.cli import console, err, prepared_settings
    from cxloop.signals.metrics import MetricError
    from cxloop.signals.metrics_import import import_rows, read_table
    from cxloop.store.engine import session_scope
    from cxloop.store.models.org import OrgUnit
    from cxloop.store.scope import Scope

    s = prepared_settings()
    if not file.exists():
        err.print(f"[red]{file}: no such file[/red]")
        raise typer.Exit(2)
    try:
        rows = read_table(file.name, file.read_bytes())
    except MetricError as exc:
        err.print(f"[red]{file.name}: {exc}[/red]")
        raise typer.Exit(2) from None
    totals = {"inserted": 0, "updated": 0, "unchanged": 0}
    errors: list[str] = []
    duplicates: list[str] = []
    defined: list[str] = []
    with session_scope(s.resolved_database_url) as session:
        roots = session.scalars(select(OrgUnit).where(OrgUnit.parent_id.is_(None))).all()
        if not roots:
            err.print("[red]no org units yet: run `cxloop demo` or create the company[/red]")
            raise typer.Exit(2)
        scope = Scope(tuple(r.path for r in roots))
        chunk = 5000
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"importing {file.name}", total=len(rows))
            # One chunk at a time keeps memory flat; duplicates across chunks are still
            # upserts (the later row wins), only the report cannot name them.
            for i in range(0, len(rows), chunk):
                rep = import_rows(
                    session=session,
                    rows=rows[i : i + chunk],
                    scope=scope,
                    owner_unit_id=roots[0].id,
                    source=source,
                )
                for k in totals:
                    totals[k] += getattr(rep, k)
                errors += rep.errors
                duplicates += rep.duplicates
                defined += rep.defined
                progress.advance(bar, len(rows[i : i + chunk]))
    console.print(
        f"{file.name}: {len(rows)} rows; {totals['inserted']} new, {totals['updated']} updated, "
        f"{totals['unchanged']} unchanged points"
    )
    for key in defined:
        console.print(f"defined metric {key}")
    for line in duplicates:
        console.print(f"[yellow]duplicate: {line}[/yellow]")
    for line in errors:
        err.print(f"[red]{line}[/red]")
    if errors:
        err.print(f"[red]{len(errors)} row(s) not imported; fix them and import again[/red]")
        raise typer.Exit(1)


def register(*, app: typer.Typer, import_app: typer.Typer) -> None:
    import_app.command("metrics")(import_metrics)
