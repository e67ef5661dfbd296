"""Metric points from CSV / XLSX files and API batches: validate each row, name what is
wrong (row and column), upsert the good rows (last duplicate wins, reported).

Columns: ``metric, unit, period, period_start, value``; optional ``metric_unit``,
``direction``, ``aggregation``, ``name`` define a metric that does not exist yet.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.signals.metrics import (
    MetricDefinitionCreate,
    MetricError,
    PointIn,
    check_point,
    definitions_by_key,
    upsert_definition,
    upsert_points,
)
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope

REQUIRED = ("metric", "unit", "period", "period_start", "value")
OPTIONAL = ("metric_unit", "direction", "aggregation", "name", "name_ja")


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    defined: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_fields: list[str | None] = field(default_factory=list)


def read_table(filename: str, content: bytes) -> list[dict[str, Any]]:
    """Rows of a CSV (UTF-8, BOM allowed) or XLSX file as dicts with a ``_row`` number
    (the spreadsheet's line number, header = 1)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MetricError(f"the file is not UTF-8 text (byte {exc.start})") from None
    reader = csv.DictReader(io.StringIO(text))
    _check_header(reader.fieldnames or [])
    out = []
    for i, row in enumerate(reader, start=2):
        out.append({"_row": i, **{(k or "").strip(): v for k, v in row.items()}})
    return out


def _read_xlsx(content: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    _check_header(header)
    out = []
    for i, values in enumerate(rows, start=2):
        if all(v is None or v == "" for v in values):
            continue
        out.append({"_row": i, **dict(zip(header, values, strict=False))})
    wb.close()
    return out


def _check_header(header: Sequence[str]) -> None:
    names = [h.strip() for h in header if h]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise MetricError(
            f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(REQUIRED)}",
            field=missing[0],
        )


def _date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip())


def _float(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(",", "")
    if not text:
        raise ValueError("empty")
    return float(text)


def import_rows(
    *,
    session: Session,
    rows: list[dict[str, Any]],
    scope: Scope,
    owner_unit_id: int,
    source: str = "import",
) -> ImportReport:
    """Validate every row, upsert the good ones; bad rows are listed in ``errors``."""
    report = ImportReport(rows=len(rows))
    defs = definitions_by_key(session)
    units = {
        u.code: u.id for u in session.scalars(select(OrgUnit).where(scope.condition(OrgUnit.id)))
    }
    good: list[PointIn] = []
    for raw in rows:
        n = raw.get("_row")
        try:
            good.append(_point(session, raw, defs, units, owner_unit_id, report))
        except MetricError as exc:
            report.errors.append(str(exc) if exc.row is not None else f"row {n}: {exc}")
            report.error_fields.append(exc.field)
    result = upsert_points(session=session, points=good, source=source)
    report.inserted, report.updated, report.unchanged = (
        result.inserted,
        result.updated,
        result.unchanged,
    )
    report.duplicates = result.duplicates
    return report


def _point(
    session: Session,
    raw: dict[str, Any],
    defs: dict[str, Any],
    units: dict[str, int],
    owner_unit_id: int,
    report: ImportReport,
) -> PointIn:
    row = raw.get("_row")
    for col in REQUIRED:
        if raw.get(col) is None or str(raw.get(col)).strip() == "":
            raise MetricError(f"{col} is empty", field=col, row=row)
    key = str(raw["metric"]).strip()
    definition = defs.get(key)
    if definition is None:
        definition = _define(session, raw, key, owner_unit_id, row)
        defs[key] = definition
        report.defined.append(key)
    elif raw.get("metric_unit") and str(raw["metric_unit"]).strip() != definition.unit:
        raise MetricError(
            f"metric_unit {raw['metric_unit']!r} differs from {key}'s unit {definition.unit!r}",
            field="metric_unit",
            row=row,
        )
    code = str(raw["unit"]).strip()
    if code not in units:
        raise MetricError(
            f"unknown org unit {code!r} (or outside your scope)", field="unit", row=row
        )
    try:
        start = _date(raw["period_start"])
    except ValueError:
        raise MetricError(
            f"period_start {raw['period_start']!r} is not a date (YYYY-MM-DD)",
            field="period_start",
            row=row,
        ) from None
    try:
        value = _float(raw["value"])
    except ValueError:
        raise MetricError(
            f"value {raw['value']!r} is not a number", field="value", row=row
        ) from None
    period = str(raw["period"]).strip().lower()
    check_point(period, start, value if math.isfinite(value) else math.nan, row=row)
    return PointIn(definition.id, units[code], period, start, value, row)


def _define(session: Session, raw: dict[str, Any], key: str, owner: int, row: Any) -> Any:
    if not raw.get("metric_unit"):
        raise MetricError(
            f"unknown metric {key!r}: define it first, or give metric_unit (and direction)",
            field="metric",
            row=row,
        )
    try:
        data = MetricDefinitionCreate(
            key=key,
            name=str(raw.get("name") or key),
            name_ja=str(raw["name_ja"]) if raw.get("name_ja") else None,
            unit=str(raw["metric_unit"]).strip(),
            direction=str(raw.get("direction") or "higher").strip(),
            aggregation=str(raw.get("aggregation") or "sum").strip(),
            description="",
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        col = {"unit": "metric_unit", "key": "metric"}.get(str(err["loc"][0]), str(err["loc"][0]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise MetricError(f"{col}: {msg}", field=col, row=row) from None
    definition, _ = upsert_definition(session=session, data=data, owner_unit_id=owner)
    return definition
