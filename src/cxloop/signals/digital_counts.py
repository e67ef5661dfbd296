"""Collector rejections that name no active site: counted in memory, written in batches.

A batch with a wrong or inactive site key (or one unreadable before its key is known) has
no site to count against, and a flood of them must not cost a write each. The collector
adds them to an :class:`UnknownTally`; its writer thread stores the sums every second.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.store.base import utcnow
from cxloop.store.models.digital import DigitalSite, DigitalUnknownKeyCount
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope

# Distinct keys kept per write: random keys must not grow the table without bound.
MAX_KEYS_PER_WRITE = 200
OTHER_KEYS = "(other)"
INVALID_KEY = "(invalid)"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

Key = tuple[str, date, str]  # site key, day, reason


def _key(site_key: str | None) -> str:
    if not site_key:
        return ""
    return site_key if _KEY.match(site_key) else INVALID_KEY


class UnknownTally:
    """Thread-safe sums of rejections per (site key, day, reason), drained by the writer."""

    def __init__(self) -> None:
        self._counts: Counter[Key] = Counter()
        self._lock = threading.Lock()

    def add(self, site_key: str | None, reason: str, n: int = 1) -> None:
        with self._lock:
            self._counts[(_key(site_key), utcnow().date(), reason)] += n

    def __bool__(self) -> bool:
        return bool(self._counts)

    def drain(self) -> Counter[Key]:
        with self._lock:
            out, self._counts = self._counts, Counter()
        return out

    def restore(self, counts: Counter[Key]) -> None:
        """Put back sums whose write failed; the next write carries them."""
        with self._lock:
            self._counts.update(counts)


def add_unknown_counts(*, session: Session, counts: Counter[Key]) -> None:
    """Add the sums to the stored counters: one upsert per key, day and reason; past
    MAX_KEYS_PER_WRITE keys, the rarest are summed under ``(other)``."""
    if not counts:
        return
    merged: Counter[Key] = Counter()
    keys = Counter[str]()
    for (k, _, _), n in counts.items():
        keys[k] += n
    kept = {k for k, _ in keys.most_common(MAX_KEYS_PER_WRITE)}
    for (k, day, reason), n in counts.items():
        merged[(k if k in kept else OTHER_KEYS, day, reason)] += n
    now = utcnow()
    params = [
        {"site_key": k, "day": day, "reason": reason, "batches": n, "last_seen_at": now}
        for (k, day, reason), n in sorted(merged.items())
    ]
    session.connection().execute(_upsert(session.get_bind().dialect.name), params)


@cache
def _upsert(dialect: str) -> Any:
    table: Table = DigitalUnknownKeyCount.__table__  # type: ignore[assignment]
    return additive_upsert(
        dialect, table, ["site_key", "day", "reason"], add=["batches"], replace=["last_seen_at"]
    )


def additive_upsert(
    dialect: str, table: Table, key: list[str], *, add: list[str], replace: Sequence[str] = ()
) -> Any:
    """INSERT that, on a row with the same ``key``, adds the ``add`` columns to the stored
    ones and overwrites the ``replace`` ones (counters written by several processes)."""
    module: Any = postgresql if dialect == "postgresql" else sqlite
    ins = module.insert(table)
    sets = {c: table.c[c] + ins.excluded[c] for c in add}
    sets |= {c: ins.excluded[c] for c in replace}
    return ins.on_conflict_do_update(index_elements=key, set_=sets)


class UnknownKeyCount(BaseModel):
    site_key: str
    reason: str
    batches: int
    last_seen_at: datetime


def key_rejections(*, session: Session, site_key: str, since: date | None = None) -> dict[str, int]:
    """Batches refused with this site's key while it was inactive, per reason."""
    c = DigitalUnknownKeyCount
    conds: list[ColumnElement[bool]] = [c.site_key == site_key]
    if since is not None:
        conds.append(c.day >= since)
    rows = session.execute(select(c.reason, func.sum(c.batches)).where(*conds).group_by(c.reason))
    return {reason: int(n or 0) for reason, n in rows}


def sees_unattributed(session: Session, scope: Scope) -> bool:
    """Counts that name no site belong to no org unit: only callers who see the whole
    company (a root unit) see them."""
    roots = session.scalars(select(OrgUnit.id).where(OrgUnit.parent_id.is_(None))).all()
    return any(scope.contains(session, r) for r in roots)


def unknown_keys(
    *, session: Session, since: date | None = None, limit: int = 50
) -> list[UnknownKeyCount]:
    """Rejections under keys that match no site (or none at all), most batches first."""
    c = DigitalUnknownKeyCount
    conds: list[ColumnElement[bool]] = [c.site_key.not_in(select(DigitalSite.site_key))]
    if since is not None:
        conds.append(c.day >= since)
    total = func.sum(c.batches)
    rows = session.execute(
        select(c.site_key, c.reason, total, func.max(c.last_seen_at))
        .where(*conds)
        .group_by(c.site_key, c.reason)
        .order_by(total.desc(), c.site_key, c.reason)
        .limit(limit)
    )
    return [
        UnknownKeyCount(site_key=k, reason=r, batches=int(n or 0), last_seen_at=at)
        for k, r, n, at in rows
    ]
