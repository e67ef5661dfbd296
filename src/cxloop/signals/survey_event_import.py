"""Bulk import of operational events (``cxloop import events FILE``): each row becomes an
event exactly as ``POST /api/v1/events`` makes it, so transactional programs invite.

Files are read by the feedback importer's streaming readers (CSV, JSON Lines, XLSX) and
reported the same way: one rejection per bad row, with its line and field; the other rows
are imported. Importing a file again stores nothing twice: a row is known by its
``external_id`` (per event type), or, without one, by a digest of what it says.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.feedback_files import RawRow, file_format, read_rows
from cxloop.signals.feedback_import import ImportReport, Rejection
from cxloop.signals.survey_events import EventCreate, EventError, record_event
from cxloop.store.engine import session_scope
from cxloop.store.models.customers import IDENTITY_KINDS
from cxloop.store.models.org import OrgUnit
from cxloop.store.models.surveys import SurveyEvent, SurveyProgram

EVENT_COLUMNS = ("type", "org_unit", "org_unit_id", "external_id", "occurred_at", "touchpoint")
CUSTOMER_COLUMNS = tuple(f"customer_{k}" for k in (*IDENTITY_KINDS, "name", "language", "timezone"))


@dataclass
class EventImportReport(ImportReport):
    invitations: int = 0
    customers_created: int = 0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def event_item(values: dict[str, Any], units: dict[str, int], default_unit: int | None) -> dict:
    """The API body for one file row: known columns, ``customer_<kind>`` identities, and
    every other non-empty column as an attribute."""
    item: dict[str, Any] = {}
    for name in ("type", "external_id", "occurred_at", "touchpoint"):
        value = values.get(name)
        if name == "occurred_at" and not isinstance(value, str):
            item[name] = value  # a datetime from XLSX; validation names a missing one
        elif _text(value) is not None:
            item[name] = _text(value)
    item["org_unit_id"] = _unit(values, units, default_unit)
    customer = values.get("customer")
    if isinstance(customer, dict):
        item["customer"] = customer
    else:
        found = {k: _text(values.get(f"customer_{k}")) for k in IDENTITY_KINDS}
        details = {k: _text(values.get(f"customer_{k}")) for k in ("name", "language", "timezone")}
        item["customer"] = {
            "identities": [{"kind": k, "value": v} for k, v in found.items() if v],
            **{k: v for k, v in details.items() if v},
        }
    known = {*EVENT_COLUMNS, *CUSTOMER_COLUMNS, "customer", "attributes"}
    extra = {k: v for k, v in values.items() if k not in known and _text(v) is not None}
    given = values.get("attributes")
    if isinstance(given, str) and given.strip():
        try:
            given = json.loads(given)
        except json.JSONDecodeError as exc:
            raise EventError("attributes", f"not valid JSON ({exc.msg})") from None
    elif isinstance(given, str):
        given = None
    if given is not None and not isinstance(given, dict):
        raise EventError("attributes", "must be a JSON object")
    attributes = {**extra, **(given or {})}
    if attributes:
        item["attributes"] = attributes
    if "external_id" not in item:
        item["external_id"] = _digest(item)
    return item


def _unit(values: dict[str, Any], units: dict[str, int], default_unit: int | None) -> int:
    raw_id, code = _text(values.get("org_unit_id")), _text(values.get("org_unit"))
    if raw_id is not None:
        if not raw_id.isdigit() or int(raw_id) not in units.values():
            raise EventError("org_unit_id", f"no org unit with id {raw_id[:40]!r}")
        return int(raw_id)
    if code is not None:
        if code not in units:
            raise EventError("org_unit", f"no org unit with code {code[:40]!r}")
        return units[code]
    if default_unit is None:
        raise EventError("org_unit", "missing: give an org_unit column (code) or --unit")
    return default_unit


def _digest(item: dict[str, Any]) -> str:
    """A stable id for a row without ``external_id``: the same row imported twice is one
    event."""
    canonical = json.dumps(item, sort_keys=True, default=str, ensure_ascii=False)
    return "row:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def import_events(
    path: Path,
    *,
    database_url: str,
    default_language: str,
    default_unit: str | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    batch_size: int = 500,
    progress: Callable[[int], None] | None = None,
    errors_to: IO[str] | None = None,
) -> EventImportReport:
    """Import every good row of ``path``; bad rows are reported, never half stored."""
    kind = file_format(path, fmt)
    report = EventImportReport()
    writer = csv.writer(errors_to) if errors_to is not None else None
    if writer is not None:
        writer.writerow(["line", "field", "reason"])
    with session_scope(database_url) as session:
        units = {code: uid for code, uid in session.execute(select(OrgUnit.code, OrgUnit.id))}
    if default_unit is not None and default_unit not in units:
        raise LookupError(f"--unit: no org unit with code {default_unit!r}")
    fallback = units[default_unit] if default_unit is not None else None
    run = _Run(units, fallback, default_language, report)
    rows = iter(read_rows(path, kind, encoding))
    while batch := list(islice(rows, batch_size)):
        with session_scope(database_url) as session:
            for rejection in run.import_batch(session, batch):
                report.rows += 1
                if rejection is not None:
                    report.reject(rejection, writer)
        if progress is not None:
            progress(batch[-1].done)
    return report


@dataclass
class _Run:
    units: dict[str, int]
    fallback: int | None
    default_language: str
    report: EventImportReport
    # Programs do not change while a file imports: looked up once per (type, unit).
    programs: dict[tuple[str, int], list[SurveyProgram]] = field(default_factory=dict)

    def import_batch(self, session: Session, batch: list[RawRow]) -> Iterator[Rejection | None]:
        """Each row's rejection, ``None`` when stored or already there. Events already
        stored are found with one query per batch, so a re-import is cheap."""
        parsed = [(row, self._parse(row)) for row in batch]
        ids = [p.external_id for _, p in parsed if isinstance(p, EventCreate)]
        stored = select(SurveyEvent.type, SurveyEvent.external_id).where(
            SurveyEvent.external_id.in_(ids)
        )
        known = {(kind, ext) for kind, ext in session.execute(stored)}
        for row, item in parsed:
            if isinstance(item, Rejection):
                yield item
            elif (item.type, item.external_id) in known:
                self.report.duplicates += 1
                yield None
            else:
                yield self._store(session, row, item)

    def _parse(self, row: RawRow) -> EventCreate | Rejection:
        if row.values is None:
            return Rejection(row.line, None, row.error or "unreadable")
        try:
            return EventCreate.model_validate(event_item(row.values, self.units, self.fallback))
        except EventError as exc:
            return Rejection(row.line, exc.field, str(exc))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or None
            return Rejection(row.line, where, first["msg"])

    def _store(self, session: Session, row: RawRow, data: EventCreate) -> Rejection | None:
        try:
            with session.begin_nested():
                result = record_event(
                    session=session,
                    data=data,
                    default_language=self.default_language,
                    programs_cache=self.programs,
                )
        except EventError as exc:
            return Rejection(row.line, exc.field, str(exc))
        if result.duplicate:
            self.report.duplicates += 1
        else:
            self.report.imported += 1
            self.report.invitations += len(result.invitations)
            self.report.customers_created += int(result.customer_created)
        return None
