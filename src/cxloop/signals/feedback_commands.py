"""``cxloop import feedback FILE``: CSV, JSONL or XLSX with a column mapping."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

SHOWN_REJECTIONS = 20


def import_feedback(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, JSONL or XLSX.")],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=column, e.g. --map text=body; repeat."),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help='JSON file {"field": "column", ...}.', exists=True)
    ] = None,
    unit: Annotated[str | None, typer.Option(help="Org-unit code for rows without one.")] = None,
    source: Annotated[str | None, typer.Option(help="Source for rows without one.")] = None,
    encoding: Annotated[
        str | None, typer.Option(help="Force an encoding (default: UTF-8, BOM or Shift_JIS).")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv, jsonl or xlsx.")] = None,
    mode: Annotated[str, typer.Option(help="Analyzer: fast, accurate or precise.")] = "fast",
    batch_size: Annotated[int, typer.Option(min=1, max=5000)] = 500,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="Analysis processes (0: in this process).")
    ] = 0,
    errors: Annotated[
        Path | None, typer.Option(help="Write every rejected row (line, field, reason) here.")
    ] = None,
) -> None:
    """Import feedback records; running it again on the same file stores nothing twice."""
    from cxloop.cli import console, err, prepared_settings
    from cxloop.insight.text import MODES
    from cxloop.signals.feedback_files import FileFormatError, file_format
    from cxloop.signals.feedback_import import (
        ColumnMapping,
        ImportOptions,
        import_file,
        worker_setup,
    )
    from cxloop.store.org import NotFoundError

    if mode not in MODES:
        err.print(f"[red]--mode: use {', '.join(MODES)}[/red]")
        raise typer.Exit(2)
    try:
        columns = ColumnMapping.parse(map_ or [], mapping)
        kind = file_format(file, fmt)
    except ValueError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    settings = prepared_settings()
    url = settings.resolved_database_url
    options = ImportOptions(columns, unit, source, encoding, kind, batch_size, mode)
    with ExitStack() as stack:
        pool = None
        if workers:
            init, args = worker_setup(url, mode)
            pool = stack.enter_context(
                ProcessPoolExecutor(
                    workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=init,
                    initargs=args,
                )
            )
        errors_fh, progress, advance = import_outputs(stack, console, file, kind, errors)
        try:
            report = import_file(
                file,
                database_url=url,
                options=options,
                progress=advance,
                errors_to=errors_fh,
                pool=pool,
            )
        except (FileFormatError, NotFoundError, UnicodeError, LookupError) as exc:
            progress.stop()
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    print_report(console, report, errors)
    if report.rejected and not (report.imported or report.updated or report.duplicates):
        raise typer.Exit(1)


def import_outputs(
    stack: ExitStack, console: Console, file: Path, kind: str, errors: Path | None
) -> tuple[IO[str] | None, Progress, Callable[[int], None]]:
    """The rejected-rows file (if asked for), the progress bar and its update function,
    all closed with ``stack``."""
    from cxloop.signals.feedback_files import size_of

    errors_fh = (
        stack.enter_context(errors.open("w", newline="", encoding="utf-8")) if errors else None
    )
    progress = stack.enter_context(
        Progress(
            TextColumn(f"importing {file.name}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
    )
    task = progress.add_task("import", total=size_of(file, kind) or None)
    return errors_fh, progress, lambda done: progress.update(task, completed=done)


def print_report(console: Console, report: Any, errors: Path | None) -> None:
    console.print(
        f"rows read: {report.rows}  imported: {report.imported}  updated: {report.updated}  "
        f"skipped as duplicates: {report.duplicates}  rejected: {report.rejected}"
    )
    if not report.rejections:
        return
    table = Table("line", "field", "reason", title="rejected rows")
    for r in report.rejections[:SHOWN_REJECTIONS]:
        table.add_row(str(r.line), r.field or "", r.reason)
    console.print(table)
    if report.rejected > SHOWN_REJECTIONS:
        more = report.rejected - SHOWN_REJECTIONS
        where = f"; all are in {errors}" if errors else "; use --errors FILE to see all"
        console.print(f"… and {more} more{where}")


def register(*, app: typer.Typer, import_app: typer.Typer) -> None:
    import_app.command("feedback")(import_feedback)
