"""Storing checked tracker batches: dedupe on batch id, keep sessions current, count outcomes.

Everything here works on a group of arrivals at once, so the collector's writer commits
many POSTs in one transaction (group commit) and the demo loader can reuse it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Table,
    and_,
    bindparam,
    case,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxloop.signals.customers import find_by_identity
from cxloop.signals.digital_collect import CheckedBatch
from cxloop.signals.digital_counts import additive_upsert
from cxloop.signals.digital_sites import SiteInfo
from cxloop.store.models.digital import DigitalBatch, DigitalCollectCount, DigitalSession

# Which customer identity a tracker's identify(id) names, tried in this order.
IDENTITY_KINDS = ("web_visitor_id", "crm_id")


@dataclass(frozen=True)
class Arrival:
    site: SiteInfo
    batch: CheckedBatch
    received_at: datetime


@dataclass(frozen=True)
class Count:
    """One collector outcome to add to a site's daily counters."""

    site_id: int
    org_unit_id: int
    day: date
    outcome: str
    batches: int = 1
    events: int = 0


def _insert(session: Session, model: Any) -> Any:
    return _insert_for(session.get_bind(), model)


def _insert_for(bind: Any, model: Any) -> Any:
    dialect: Any = postgresql if bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(model)


def store_arrivals(*, session: Session, arrivals: Sequence[Arrival]) -> list[str]:
    """Store each batch once; returns ``accepted`` or ``duplicate`` per arrival, in order."""
    outcomes = ["accepted"] * len(arrivals)
    first: dict[tuple[int, str], int] = {}
    for i, a in enumerate(arrivals):
        key = (a.site.id, a.batch.batch_key)
        if key in first:
            outcomes[i] = "duplicate"
        else:
            first[key] = i
    if not first:
        return outcomes
    todo = [arrivals[i] for i in first.values()]
    conn = session.connection()
    sessions = _session_rows(conn, todo)
    rows = [
        {
            "site_id": a.site.id,
            "session_id": sessions[(a.site.id, a.batch.session_key)][0],
            "org_unit_id": a.site.org_unit_id,
            "batch_key": a.batch.batch_key,
            "received_at": a.received_at,
            "sent_at": a.batch.sent_at,
            "n_events": len(a.batch.events),
            "body": a.batch.body,
        }
        for a in todo
    ]
    # Core executemany of cached statements: the ORM and multi-row VALUES cost more than
    # the database does here.
    table = _BATCHES
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=["site_id", "batch_key"])
        .returning(table.c.site_id, table.c.batch_key)
    )
    inserted = {(r[0], r[1]) for r in conn.execute(stmt, rows)}
    for key, i in first.items():
        if key not in inserted:
            outcomes[i] = "duplicate"  # stored by an earlier request (a browser resend)
    updates = []
    for a in todo:
        if (a.site.id, a.batch.batch_key) not in inserted:
            continue
        session_id, customer_ref = sessions[(a.site.id, a.batch.session_key)]
        ts = [e["ts"] for e in a.batch.events]
        updates.append(
            {
                "b_id": session_id,
                "b_events": len(ts),
                "b_first": min(ts),
                "b_last": max(ts),
                "b_seen": a.received_at,
                "b_entry": a.batch.entry_url,
            }
        )
        ref = a.batch.customer_ref
        if ref and ref != customer_ref:
            conn.execute(
                update(_SESSIONS)
                .where(_SESSIONS.c.id == session_id)
                .values(customer_ref=ref, customer_id=link_customer(session, ref))
            )
            sessions[(a.site.id, a.batch.session_key)] = (session_id, ref)
    if updates:
        conn.execute(_TOUCH, updates)
    return outcomes


_BATCHES: Table = DigitalBatch.__table__  # type: ignore[assignment]
_SESSIONS: Table = DigitalSession.__table__  # type: ignore[assignment]
_S = _SESSIONS.c
# Relative updates, so processes storing batches of one session at once do not race.
_TOUCH = (
    update(_SESSIONS)
    .where(_S.id == bindparam("b_id"))
    .values(
        events=_S.events + bindparam("b_events"),
        batches=_S.batches + 1,
        first_ts=case(
            (_S.first_ts > bindparam("b_first", type_=BigInteger), bindparam("b_first")),
            else_=_S.first_ts,
        ),
        last_ts=case(
            (_S.last_ts < bindparam("b_last", type_=BigInteger), bindparam("b_last")),
            else_=_S.last_ts,
        ),
        last_seen_at=case(
            (
                _S.last_seen_at < bindparam("b_seen", type_=_S.last_seen_at.type),
                bindparam("b_seen"),
            ),
            else_=_S.last_seen_at,
        ),
        # a late batch reopens a closed session: it is scored again when it goes idle
        status="open",
        entry_url=case((_S.entry_url == "", bindparam("b_entry")), else_=_S.entry_url),
    )
)


def _session_rows(
    conn: Connection, arrivals: Iterable[Arrival]
) -> dict[tuple[int, str], tuple[int, str | None]]:
    """(site, session key) -> (session id, customer ref), creating the missing sessions."""
    wanted: dict[tuple[int, str], Arrival] = {}
    for a in arrivals:
        wanted.setdefault((a.site.id, a.batch.session_key), a)
    found = _load_sessions(conn, list(wanted))
    missing = [k for k in wanted if k not in found]
    if missing:
        values = []
        for k in missing:
            a = wanted[k]
            received_ms = int(a.received_at.timestamp() * 1000)
            values.append(
                {
                    "site_id": a.site.id,
                    "org_unit_id": a.site.org_unit_id,
                    "session_key": a.batch.session_key,
                    "status": "open",
                    "started_at": a.received_at,
                    "last_seen_at": a.received_at,
                    "clock_offset_ms": received_ms - a.batch.sent_at,
                    "first_ts": min(e["ts"] for e in a.batch.events),
                    "last_ts": 0,
                    "events": 0,
                    "batches": 0,
                    "entry_url": "",
                    "pillars": {},
                    "engagement": {},
                    "pages": 0,
                    "signal_count": 0,
                    "frustrated": False,
                }
            )
        stmt = _insert_for(conn, _SESSIONS).on_conflict_do_nothing(
            index_elements=["site_id", "session_key"]
        )
        conn.execute(stmt, values)
        found.update(_load_sessions(conn, missing))
    return found


def _load_sessions(
    conn: Connection, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], tuple[int, str | None]]:
    if not keys:
        return {}
    by_site: dict[int, list[str]] = defaultdict(list)
    for site_id, key in keys:
        by_site[site_id].append(key)
    cond = or_(*(and_(_S.site_id == s, _S.session_key.in_(ks)) for s, ks in by_site.items()))
    rows = conn.execute(select(_S.site_id, _S.session_key, _S.id, _S.customer_ref).where(cond))
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def link_customer(session: Session, customer_ref: str) -> int | None:
    """The customer whose web visitor id (or CRM id) the tracker's identify() passed."""
    for kind in IDENTITY_KINDS:
        customer = find_by_identity(session, kind, customer_ref)
        if customer is not None:
            return customer.id
    return None


def counts_for(arrival: Arrival, outcome: str) -> list[Count]:
    """The counter increments one stored (or duplicate) arrival makes."""
    s, day = arrival.site, arrival.received_at.date()
    b = arrival.batch
    out = [Count(s.id, s.org_unit_id, day, outcome, 1, len(b.events))]
    if outcome == "accepted" and b.dropped:
        out.append(Count(s.id, s.org_unit_id, day, "events_dropped_time", 0, b.dropped))
    if outcome == "accepted" and b.clock_skewed:
        out.append(Count(s.id, s.org_unit_id, day, "clock_skew", 1, 0))
    return out


def add_counts(*, session: Session, counts: Iterable[Count]) -> None:
    """Add to the per-site daily counters (one upsert per distinct site, day and outcome)."""
    merged: dict[tuple[int, date, str], list[int]] = {}
    units: dict[int, int] = {}
    for c in counts:
        acc = merged.setdefault((c.site_id, c.day, c.outcome), [0, 0])
        acc[0] += c.batches
        acc[1] += c.events
        units[c.site_id] = c.org_unit_id
    params = [
        {
            "site_id": site_id,
            "org_unit_id": units[site_id],
            "day": day,
            "outcome": outcome,
            "batches": batches,
            "events": events,
        }
        for (site_id, day, outcome), (batches, events) in sorted(merged.items())
    ]
    if params:
        session.connection().execute(_count_upsert(session.get_bind().dialect.name), params)


@cache
def _count_upsert(dialect: str) -> Any:
    table: Table = DigitalCollectCount.__table__  # type: ignore[assignment]
    return additive_upsert(dialect, table, ["site_id", "day", "outcome"], add=["batches", "events"])
