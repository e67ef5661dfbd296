"""Period arithmetic in SQL, for the rollup jobs that aggregate inside the database.

``period_floor_sql`` is the SQL twin of ``signals.metrics.period_floor`` (weeks start on
Monday) on SQLite and PostgreSQL; ``unit_depth`` is an org unit's level from its
materialised path, so a rollup can be built one tree level at a time, deepest first;
``with_ancestors`` closes a set of units upwards, for refreshing only what they feed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Date, Integer, cast, func, select
from sqlalchemy.orm import Session

from cxloop.store.models.org import OrgUnit


def period_floor_sql(session: Session, kind: str, column: Any) -> Any:
    """The first day of the ``kind`` period holding the date ``column``."""
    if kind == "day":
        return column
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc(kind, column), Date)
    if kind == "week":
        return func.date(column, "weekday 0", "-6 days")
    if kind == "month":
        return func.date(column, "start of month")
    if kind == "quarter":
        back = (cast(func.strftime("%m", column), Integer) - 1) % 3
        return func.date(column, "start of month", func.printf("-%d months", back))
    if kind == "year":
        return func.date(column, "start of year")
    raise ValueError(f"unknown period {kind!r}")


def unit_depth(path: Any = OrgUnit.path) -> Any:
    """Number of slashes in the path: the company is 2 ("/1/"), its children 3, ..."""
    return func.length(path) - func.length(func.replace(path, "/", ""))


def depths(session: Session) -> list[int]:
    """The tree's levels, deepest first."""
    rows = session.scalars(select(unit_depth()).distinct())
    return sorted((int(d) for d in rows), reverse=True)


def with_ancestors(session: Session, unit_ids: Iterable[int]) -> set[int]:
    """The units and every unit above them (from the materialised paths)."""
    ids = set(unit_ids)
    out = set(ids)
    for path in session.scalars(select(OrgUnit.path).where(OrgUnit.id.in_(ids))):
        out.update(int(p) for p in path.strip("/").split("/") if p)
    return out
