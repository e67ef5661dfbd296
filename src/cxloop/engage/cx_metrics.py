"""CX figures for a scope and period, read from per-unit-per-day rollups.

``refresh_rollups`` folds raw rows of every available source into ``cx_rollups`` (the
job does it for recent days; ``cxloop metrics rollup`` for any range). ``moments`` reads
them back grouped by day, unit or segment; ``figure`` turns moments into an estimate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Date, Table, and_, case, cast, delete, func, insert, inspect, literal, select
from sqlalchemy.orm import Session

from cxloop.engage.cx_periods import refresh_period_rollups
from cxloop.engage.cx_sources import CxSource, available, source
from cxloop.engage.cx_stats import Moments, estimate
from cxloop.insight.scores import Estimate
from cxloop.signals.metrics_sql import with_ancestors
from cxloop.store.models.customers import Customer
from cxloop.store.models.metrics import CxRollup
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope

SEGMENT_DIMS = ("customer_type", "tier", "region", "industry")
_MARGIN = timedelta(hours=14)
GROUPS = ("total", "day", "unit", "segment")
_DAY_ROWS: Table = CxRollup.__table__  # type: ignore[assignment]


def _local_day(session: Session, column: Any, zone: Any) -> Any:
    """The calendar day of the UTC instant ``column`` in the time zone ``zone`` (a unit's)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(zone, column), Date)
    # SQLite has no time-zone database: a deterministic Python function does the conversion.
    raw = session.connection().connection.driver_connection
    assert raw is not None
    raw.create_function("cx_local_day", 2, _sqlite_local_day, deterministic=True)
    return func.cx_local_day(column, zone)


def _sqlite_local_day(stamp: str | None, zone: str | None) -> str | None:
    if stamp is None:
        return None
    # Called for every raw row: the zone arithmetic is done once per UTC hour and zone.
    day, minute, next_day = _hour_in_zone(stamp[:13], zone or "UTC")
    if minute < 0:  # the offset changes inside this hour: convert exactly
        at = datetime.fromisoformat(stamp).replace(tzinfo=UTC)
        return at.astimezone(zone_info(zone or "UTC")).date().isoformat()
    return next_day if minute + int(stamp[14:16] or 0) >= 1440 else day


@lru_cache(maxsize=65536)
def _hour_in_zone(hour: str, zone: str) -> tuple[str, int, str]:
    """For the UTC hour ``YYYY-MM-DD HH`` in ``zone``: the local date at its start, the local
    minute of that day, and the next date (minute -1: the offset changes within the hour)."""
    start = datetime.fromisoformat(f"{hour}:00").replace(tzinfo=UTC)
    tz = zone_info(zone)
    local = start.astimezone(tz)
    if (start + timedelta(minutes=59)).astimezone(tz).utcoffset() != local.utcoffset():
        return "", -1, ""
    day = local.date()
    return day.isoformat(), local.hour * 60 + local.minute, (day + timedelta(1)).isoformat()


@lru_cache(maxsize=256)
def zone_info(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (UTC when unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aggregates(src: CxSource, value: Any) -> list[Any]:
    if src.kind == "nps":
        a = func.sum(case((value >= 9, 1), else_=0))
        b = func.sum(case((value <= 6, 1), else_=0))
        return [func.count(), a, b, func.sum(value), func.sum(value * value)]
    if src.kind == "share":
        assert src.success is not None
        a = func.sum(case((src.success(value), 1), else_=0))
        return [func.count(), a, literal(0), literal(0.0), literal(0.0)]
    return [func.count(), literal(0), literal(0), func.sum(value), func.sum(value * value)]


def refresh_rollups(
    *,
    session: Session,
    since: date,
    until: date,
    metrics: Iterable[str] | None = None,
    unit_ids: Collection[int] | None = None,
) -> dict[str, int]:
    """Recompute rollups of days ``since`` ≤ day < ``until``, then the week / month / quarter
    totals holding them; returns day rows written per figure. ``unit_ids`` limits the day
    rows to those units, and the totals to them and their ancestors."""
    units = sorted(unit_ids) if unit_ids is not None else None
    chosen = [source(m) for m in metrics] if metrics is not None else available()
    # Days are the units' own calendar days: read a margin of raw rows on both sides (no
    # zone is more than 14 hours from UTC) and keep the rows whose local day is in range.
    start = datetime.combine(since, time(), tzinfo=UTC) - _MARGIN
    end = datetime.combine(until, time(), tzinfo=UTC) + _MARGIN
    written: dict[str, int] = {}
    for src in chosen:
        stmt = src.rows(start, end)
        if stmt is None or not _tables_exist(session, stmt):
            continue
        stale = [CxRollup.metric == src.name, CxRollup.day >= since, CxRollup.day < until]
        if units is not None:
            stale.append(CxRollup.org_unit_id.in_(units))
            stmt = stmt.where(stmt.selected_columns.unit_id.in_(units))
        session.execute(delete(CxRollup).where(*stale))
        sub = stmt.subquery()
        day = _local_day(session, sub.c.at, OrgUnit.timezone).label("day")
        aggs = _aggregates(src, sub.c.value)
        rows: list[dict[str, Any]] = []
        in_range = [day >= since.isoformat(), day < until.isoformat()]
        if session.get_bind().dialect.name == "postgresql":
            in_range = [day >= since, day < until]
        base = (
            select(sub.c.unit_id, day, *aggs)
            .join(OrgUnit, OrgUnit.id == sub.c.unit_id)
            .where(*in_range)
            .group_by(sub.c.unit_id, day)
        )
        for unit_id, d, n, a, b, s, ss in session.execute(base):
            rows.append(_row(src.name, unit_id, d, "", "", n, a, b, s, ss))
        for dim in SEGMENT_DIMS:
            col = getattr(Customer, dim)
            seg = (
                select(sub.c.unit_id, day, col, *aggs)
                .join(OrgUnit, OrgUnit.id == sub.c.unit_id)
                .join(Customer, Customer.id == sub.c.customer_id)
                .where(col.is_not(None), *in_range)
                .group_by(sub.c.unit_id, day, col)
            )
            for unit_id, d, value, n, a, b, s, ss in session.execute(seg):
                rows.append(_row(src.name, unit_id, d, dim, str(value), n, a, b, s, ss))
        if rows:
            session.connection().execute(insert(_DAY_ROWS), rows)
        written[src.name] = len(rows)
    if written:
        refresh_period_rollups(
            session=session,
            since=since,
            until=until,
            metrics=list(written),
            unit_ids=with_ancestors(session, units) if units is not None else None,
        )
    return written


def _tables_exist(session: Session, stmt: Any) -> bool:
    """An area's model may be installed before its migration is applied; skip it then."""
    names = {t.name for t in stmt.get_final_froms() if hasattr(t, "name")}
    insp = inspect(session.connection())
    return all(insp.has_table(n) for n in names)


def _row(metric: str, unit_id: int, d: Any, dim: str, value: str, *nums: Any) -> dict[str, Any]:
    n, a, b, s, ss = nums
    day = d if isinstance(d, date) else date.fromisoformat(str(d))
    return {
        "metric": metric,
        "org_unit_id": unit_id,
        "day": day,
        "dim": dim,
        "dim_value": value,
        "n": int(n or 0),
        "a": int(a or 0),
        "b": int(b or 0),
        "s": float(s or 0.0),
        "ss": float(ss or 0.0),
    }


@dataclass(frozen=True)
class Segment:
    """A customer segment (``customer_type = business``); empty ``dim`` is everyone."""

    dim: str = ""
    value: str = ""

    def __post_init__(self) -> None:
        if self.dim and self.dim not in SEGMENT_DIMS:
            raise ValueError(f"segment must be one of {', '.join(SEGMENT_DIMS)}")


def moments(
    *,
    session: Session,
    scope: Scope,
    metric: str,
    start: date,
    end: date,
    segment: Segment | None = None,
    group: str = "total",
    compare_dim: str | None = None,
) -> dict[Any, Moments]:
    """Summed rollups of ``metric`` for days ``start`` ≤ day < ``end`` in ``scope``.

    ``group``: ``total`` (key ``None``), ``day`` (key: the date), ``unit`` (key: unit id)
    or ``segment`` (key: each value of ``compare_dim``).
    """
    if group not in GROUPS:
        raise ValueError(f"group must be one of {', '.join(GROUPS)}")
    seg = segment or Segment()
    dim = compare_dim if group == "segment" else seg.dim
    if group == "segment" and (not compare_dim or compare_dim not in SEGMENT_DIMS):
        raise ValueError(f"compare by one of {', '.join(SEGMENT_DIMS)}")
    filters = [
        CxRollup.metric == metric,
        CxRollup.dim == (dim or ""),
        CxRollup.day >= start,
        CxRollup.day < end,
        scope.condition(CxRollup.org_unit_id),
    ]
    if group != "segment" and seg.dim:
        filters.append(CxRollup.dim_value == seg.value)
    key = {
        "total": None,
        "day": CxRollup.day,
        "unit": CxRollup.org_unit_id,
        "segment": CxRollup.dim_value,
    }[group]
    sums = [
        func.sum(CxRollup.n),
        func.sum(CxRollup.a),
        func.sum(CxRollup.b),
        func.sum(CxRollup.s),
        func.sum(CxRollup.ss),
    ]
    stmt = select(*([key] if key is not None else []), *sums).where(and_(*filters))
    if key is not None:
        stmt = stmt.group_by(key)
    out: dict[Any, Moments] = {}
    for row in session.execute(stmt):
        k = row[0] if key is not None else None
        n, a, b, s, ss = _sums(row)
        if not n:
            continue
        if group == "day" and not isinstance(k, date):
            k = date.fromisoformat(str(k))
        out[k] = Moments(int(n), int(a or 0), int(b or 0), float(s or 0), float(ss or 0))
    return out


def figure(metric: str, m: Moments | None, *, min_n: int) -> Estimate | None:
    """The estimate of ``metric`` from ``m`` (``None`` when there is no data)."""
    if m is None:
        return None
    return estimate(source(metric).kind, m, min_n=min_n)


def bucket_days(by_day: dict[date, Moments], starts: list[date], end: date) -> list[Moments | None]:
    """Sum daily moments into the periods beginning at ``starts`` (the last ends at ``end``)."""
    edges = [*starts, end]
    out: list[Moments | None] = []
    sums: dict[int, Moments] = defaultdict(Moments)
    for d, m in by_day.items():
        for i in range(len(starts)):
            if edges[i] <= d < edges[i + 1]:
                sums[i] = sums[i] + m
                break
    for i in range(len(starts)):
        out.append(sums.get(i))
    return out


def _sums(row: Any) -> tuple[Any, Any, Any, Any, Any]:
    n, a, b, s, ss = tuple(row)[-5:]
    return n, a, b, s, ss
