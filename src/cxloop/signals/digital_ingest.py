"""Storing checked tracker batches: dedupe on batch id, keep sessions current, count outcomes.

Everything here works on a group of arrivals at once, so the collector's writer commits
many POSTs in one transaction (group commit) and the demo loader can reuse it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cxloop.signals.customers import find_by_identity
from cxloop.signals.digital_collect import CheckedBatch
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
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


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
    sessions = _session_rows(session, todo)
    rows = [
        {
            "site_id": a.site.id,
            "session_id": sessions[(a.site.id, a.batch.session_key)].id,
            "org_unit_id": a.site.org_unit_id,
            "batch_key": a.batch.batch_key,
            "received_at": a.received_at,
            "sent_at": a.batch.sent_at,
            "n_events": len(a.batch.events),
            "events": a.batch.events,
        }
        for a in todo
    ]
    stmt = (
        _insert(session, DigitalBatch)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["site_id", "batch_key"])
        .returning(DigitalBatch.site_id, DigitalBatch.batch_key)
    )
    inserted = {(r[0], r[1]) for r in session.execute(stmt)}
    for key, i in first.items():
        if key not in inserted:
            outcomes[i] = "duplicate"  # stored by an earlier request (a browser resend)
    for a in todo:
        if (a.site.id, a.batch.batch_key) in inserted:
            _touch(session, sessions[(a.site.id, a.batch.session_key)], a)
    session.flush()
    return outcomes


def _session_rows(
    session: Session, arrivals: Iterable[Arrival]
) -> dict[tuple[int, str], DigitalSession]:
    wanted: dict[tuple[int, str], Arrival] = {}
    for a in arrivals:
        wanted.setdefault((a.site.id, a.batch.session_key), a)
    found = _load_sessions(session, list(wanted))
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
                    "entry_url": a.batch.entry_url,
                    "pillars": {},
                    "engagement": {},
                    "pages": 0,
                    "signal_count": 0,
                    "frustrated": False,
                }
            )
        stmt = (
            _insert(session, DigitalSession)
            .values(values)
            .on_conflict_do_nothing(index_elements=["site_id", "session_key"])
        )
        session.execute(stmt)
        found.update(_load_sessions(session, missing))
    return found


def _load_sessions(
    session: Session, keys: list[tuple[int, str]]
) -> dict[tuple[int, str], DigitalSession]:
    if not keys:
        return {}
    by_site: dict[int, list[str]] = defaultdict(list)
    for site_id, key in keys:
        by_site[site_id].append(key)
    cond = or_(
        *(
            and_(DigitalSession.site_id == s, DigitalSession.session_key.in_(ks))
            for s, ks in by_site.items()
        )
    )
    rows = session.scalars(select(DigitalSession).where(cond))
    return {(r.site_id, r.session_key): r for r in rows}


def _touch(session: Session, row: DigitalSession, a: Arrival) -> None:
    b = a.batch
    ts = [e["ts"] for e in b.events]
    row.events += len(b.events)
    row.batches += 1
    row.first_ts = min(row.first_ts or min(ts), min(ts))
    row.last_ts = max(row.last_ts, max(ts))
    if a.received_at > row.last_seen_at:
        row.last_seen_at = a.received_at
    if row.status != "open":
        row.status = "open"  # a late batch: the session is scored again when it goes idle
    if not row.entry_url and b.entry_url:
        row.entry_url = b.entry_url
    if b.customer_ref and b.customer_ref != row.customer_ref:
        row.customer_ref = b.customer_ref
        row.customer_id = link_customer(session, b.customer_ref)


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
    for (site_id, day, outcome), (batches, events) in sorted(merged.items()):
        ins = _insert(session, DigitalCollectCount).values(
            site_id=site_id,
            org_unit_id=units[site_id],
            day=day,
            outcome=outcome,
            batches=batches,
            events=events,
        )
        table = DigitalCollectCount.__table__
        stmt = ins.on_conflict_do_update(
            index_elements=["site_id", "day", "outcome"],
            set_={
                "batches": table.c.batches + ins.excluded.batches,
                "events": table.c.events + ins.excluded.events,
            },
        )
        session.execute(stmt)
