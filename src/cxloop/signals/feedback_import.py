"""Bulk import of feedback files: column mapping, batches, one report with every rejection.

Memory stays flat whatever the file size: rows stream in, ``batch_size`` of them are
ingested and committed at a time, and only the first rejections are kept in memory
(all of them go to ``errors_to`` when given).
"""

from __future__ import annotations

import csv
import gc
import json
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from cxloop.insight.text import Mode, get_analyzer, load_taxonomy
from cxloop.signals.feedback import IngestContext, Plan, finish, plan
from cxloop.signals.feedback_enrich import Enrichment, enrich_many
from cxloop.signals.feedback_files import RawRow, file_format, read_rows
from cxloop.signals.feedback_input import CUSTOMER_KEYS, FeedbackCreate
from cxloop.store.engine import session_scope

ITEM_FIELDS = tuple(f for f in FeedbackCreate.model_fields if f != "customer")
CUSTOMER_FIELDS = tuple(f"customer_{k}" for k in CUSTOMER_KEYS)
FIELDS = ITEM_FIELDS + CUSTOMER_FIELDS
_TEXT_FIELDS = {
    name
    for name, info in FeedbackCreate.model_fields.items()
    if info.annotation in (str, str | None)
} | set(CUSTOMER_FIELDS)
KEPT_REJECTIONS = 1000


@dataclass(frozen=True)
class ColumnMapping:
    """Which file column holds each field; columns named like a field need no entry."""

    columns: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, pairs: Iterable[str] = (), mapping_file: Path | None = None) -> ColumnMapping:
        """From ``field=column`` pairs and/or a JSON file ``{"field": "column"}``."""
        columns: dict[str, str] = {}
        if mapping_file is not None:
            try:
                data = json.loads(mapping_file.read_text(encoding="utf-8-sig"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(f"mapping file {mapping_file}: {exc}") from None
            if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                raise ValueError(f"mapping file {mapping_file}: must be {{'field': 'column'}}")
            columns.update(data)
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise ValueError(f"--map {pair!r}: write field=column, e.g. text=body")
            columns[name.strip()] = column.strip()
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r} in the mapping; fields: {FIELDS}")
        return cls(columns)

    def apply(self, values: dict[str, Any]) -> dict[str, Any]:
        """An API-shaped item from one row; unmapped non-empty columns become attributes."""
        item: dict[str, Any] = {}
        used: set[str] = set()
        for name in FIELDS:
            column = self.columns.get(name, name)
            if column not in values:
                continue
            used.add(column)
            value = _clean(values[column], name in _TEXT_FIELDS)
            if value is None:
                continue
            if name.startswith("customer_"):
                item.setdefault("customer", {})[name.removeprefix("customer_")] = value
            else:
                item[name] = value
        if isinstance(values.get("customer"), dict) and "customer" not in used:
            item["customer"] = {**values["customer"], **item.get("customer", {})}
            used.add("customer")
        extra = {
            k: _jsonable(v)
            for k, v in values.items()
            if k not in used and _clean(v, False) is not None
        }
        if extra:
            given = item.get("attributes")
            item["attributes"] = {**extra, **(given if isinstance(given, dict) else {})}
        return item


def _clean(value: Any, as_text: bool) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if as_text and isinstance(value, float) and value.is_integer():
        return str(int(value))
    if as_text and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


@dataclass(frozen=True)
class Rejection:
    line: int
    field: str | None
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)  # the first KEPT_REJECTIONS

    def reject(self, rejection: Rejection, errors_to: Any) -> None:
        self.rejected += 1
        if len(self.rejections) < KEPT_REJECTIONS:
            self.rejections.append(rejection)
        if errors_to is not None:
            errors_to.writerow([rejection.line, rejection.field or "", rejection.reason])


@dataclass(frozen=True)
class ImportOptions:
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    default_unit: str | None = None
    default_source: str | None = None
    encoding: str | None = None
    fmt: str | None = None
    batch_size: int = 500
    mode: Mode = "fast"


def import_file(
    path: Path,
    *,
    database_url: str,
    options: ImportOptions,
    progress: Callable[[int], None] | None = None,
    errors_to: IO[str] | None = None,
    pool: Executor | None = None,
) -> ImportReport:
    """Import ``path`` into the database; safe to run again (nothing is stored twice).

    With a process ``pool``, batch N+1 is analysed by the workers while this process
    writes batch N and reads the next one.
    """
    with bulk_gc():
        return _import(path, database_url, options, progress, errors_to, pool)


# A bulk import allocates millions of short-lived objects (rows, parameters, results);
# the default collector thresholds made it scan the long-lived ones (modules, the
# dictionary, the mapped classes) over and over: ~30 % of the importer's CPU.
_BULK_GC_THRESHOLD = (50_000, 20, 10)


def _tune_gc() -> tuple[int, ...]:
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_BULK_GC_THRESHOLD)
    return before


@contextmanager
def bulk_gc() -> Iterator[None]:
    """Collect garbage rarely, and never scan what existed before, while inside."""
    before = _tune_gc()
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _import(
    path: Path,
    database_url: str,
    options: ImportOptions,
    progress: Callable[[int], None] | None,
    errors_to: IO[str] | None,
    pool: Executor | None,
) -> ImportReport:
    fmt = file_format(path, options.fmt)
    run = _Run(database_url, ImportReport(), csv.writer(errors_to) if errors_to else None)
    if run.writer is not None:
        run.writer.writerow(["line", "field", "reason"])
    context = IngestContext(scope=None, default_source=options.default_source, mode=options.mode)
    if options.default_unit:
        context.default_unit_id = _unit_id(database_url, options.default_unit)
    enrich_later = None
    if pool is not None:
        enrich_later = _pooled(pool)
        context.taxonomy_version = _taxonomy_version(database_url)
    in_flight: _Batch | None = None
    for batch in _batches(read_rows(path, fmt, options.encoding), options.batch_size):
        items, lines = [], []
        for row in batch:
            run.report.rows += 1
            if row.values is None:
                run.report.reject(Rejection(row.line, None, row.error or "unreadable"), run.writer)
                continue
            items.append(options.mapping.apply(row.values))
            lines.append(row.line)
        if items:
            planned = run.plan(items, context)
            if enrich_later is None:
                run.finish(_Batch(planned, lines, None), context)
            else:
                if in_flight is not None and in_flight.planned.keys & planned.keys:
                    # The same record twice in consecutive batches: write the first, re-match.
                    run.finish(in_flight, context)
                    in_flight = None
                    planned = run.plan(items, context)
                waiting = _Batch(planned, lines, enrich_later(planned.pairs))
                if in_flight is not None:
                    run.finish(in_flight, context)
                in_flight = waiting
        if progress is not None and batch:
            progress(batch[-1].done)
    if in_flight is not None:
        run.finish(in_flight, context)
    return run.report


@dataclass
class _Batch:
    planned: Plan
    lines: list[int]
    enrichments: Callable[[], list[Enrichment]] | None  # waits for the workers


@dataclass
class _Run:
    database_url: str
    report: ImportReport
    writer: Any

    def plan(self, items: list[dict[str, Any]], context: IngestContext) -> Plan:
        with session_scope(self.database_url) as session:
            return plan(session=session, items=items, context=context)

    def finish(self, batch: _Batch, context: IngestContext) -> None:
        found = batch.enrichments() if batch.enrichments is not None else None
        with session_scope(self.database_url) as session:
            results = finish(
                session=session, planned=batch.planned, context=context, enrichments=found
            )
        report = self.report
        for result, line in zip(results, batch.lines, strict=True):
            if result.status == "created":
                report.imported += 1
            elif result.status == "updated":
                report.updated += 1
            elif result.status == "duplicate":
                report.duplicates += 1
            else:
                report.reject(Rejection(line, result.field, result.reason or ""), self.writer)


def _batches(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _taxonomy_version(database_url: str) -> int:
    from cxloop.signals.feedback_taxonomy import taxonomy_version

    with session_scope(database_url) as session:
        return taxonomy_version(session=session)


def _unit_id(database_url: str, code: str) -> int:
    from cxloop.store.org import unit_by_code

    with session_scope(database_url) as session:
        return unit_by_code(session, code).id


# Enrichment in worker processes: each builds its analyzer once from the taxonomy document.
_worker_analyzer: Any = None


def _init_worker(document: dict[str, Any], mode: Mode) -> None:
    global _worker_analyzer  # noqa: PLW0603 - one analyzer per worker process
    _worker_analyzer = get_analyzer(mode, load_taxonomy(document))
    _tune_gc()  # the worker lives for one import: for good (see bulk_gc)


def _enrich_in_worker(pairs: list[tuple[str, str]]) -> list[Enrichment]:
    return enrich_many(pairs, _worker_analyzer)


def worker_setup(database_url: str, mode: Mode) -> tuple[Callable[..., None], tuple[Any, ...]]:
    """The initializer and its arguments for a ProcessPoolExecutor doing enrichment."""
    from cxloop.signals.feedback_taxonomy import taxonomy_document

    with session_scope(database_url) as session:
        document = taxonomy_document(session=session)
    return _init_worker, (document, mode)


def _pooled(pool: Executor) -> Callable[[list[tuple[str, str]]], Callable[[], list[Enrichment]]]:
    """Start enriching in the pool now; the returned function waits for the results."""
    workers = max(1, getattr(pool, "_max_workers", 2))

    def submit(pairs: list[tuple[str, str]]) -> Callable[[], list[Enrichment]]:
        step = max(1, -(-len(pairs) // workers))
        futures = [
            pool.submit(_enrich_in_worker, pairs[i : i + step]) for i in range(0, len(pairs), step)
        ]
        return lambda: [e for f in futures for e in f.result()]

    return submit
