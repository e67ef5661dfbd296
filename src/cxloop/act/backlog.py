"""Product backlog items built from customer evidence and prioritised by customer impact.

Impact (see docs/act.md)::

    reach    = distinct affected customers + 0.25 x records without a known customer
    severity = 0.5 + share of negative records          (0.5 .. 1.5)
    money    = 1 + log10(1 + revenue of affected customers / 100,000)
    momentum = 1 + clamp(trend, -0.5, 1.0)             (trend: last 14 days vs the 14 before)
    impact   = reach x severity x money x momentum
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.act.hooks import RuleRecord, sources
from cxloop.store.base import utcnow
from cxloop.store.models.act import BACKLOG_STATUSES, BacklogItem
from cxloop.store.models.customers import Customer

QUOTES = 3
_NEGATIVE = {"negative", "very_negative"}


class BacklogError(ValueError):
    def __init__(self, message: str, field: str | None = None, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


@dataclass(frozen=True)
class Evidence:
    records: int
    customers: int
    revenue: float | None
    negative_share: float
    recent: int  # records in the last 14 days
    prior: int  # records in the 14 days before
    trend: float
    quotes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _is_negative(rec: RuleRecord) -> bool:
    f = rec.fields
    if f.get("sentiment") in _NEGATIVE:
        return True
    nps, csat, rating = f.get("nps"), f.get("csat"), f.get("rating")
    return (
        (isinstance(nps, int | float) and nps <= 6)
        or (isinstance(csat, int | float) and csat <= 2)
        or (isinstance(rating, int | float) and rating <= 2)
    )


def gather_evidence(session: Session, records: list[RuleRecord], now: datetime) -> Evidence:
    customer_ids = {r.customer_id for r in records if r.customer_id is not None}
    revenue = None
    if customer_ids:
        values = session.scalars(
            select(Customer.annual_revenue).where(Customer.id.in_(customer_ids))
        ).all()
        known = [v for v in values if v is not None]
        revenue = float(sum(known)) if known else None
    recent = sum(1 for r in records if r.at and r.at >= now - timedelta(days=14))
    prior = sum(
        1 for r in records if r.at and now - timedelta(days=28) <= r.at < now - timedelta(days=14)
    )
    trend = (recent - prior) / max(prior, 1)
    texts = [
        r for r in records if isinstance(r.fields.get("text"), str) and r.fields["text"].strip()
    ]
    texts.sort(key=lambda r: (r.fields.get("sentiment_score") or 0.0, r.score or 0.0))
    quotes: list[str] = []
    for r in texts:
        quote = " ".join(r.fields["text"].split())[:280]
        if quote not in quotes:
            quotes.append(quote)
        if len(quotes) == QUOTES:
            break
    negative = sum(1 for r in records if _is_negative(r))
    return Evidence(
        records=len(records),
        customers=len(customer_ids),
        revenue=revenue,
        negative_share=negative / len(records) if records else 0.0,
        recent=recent,
        prior=prior,
        trend=trend,
        quotes=quotes,
    )


def impact(evidence: Evidence) -> float:
    """Customer impact score; the formula is in the module docstring and docs/act.md."""
    anonymous = evidence.records - evidence.customers if evidence.records else 0
    reach = evidence.customers + 0.25 * max(anonymous, 0)
    severity = 0.5 + evidence.negative_share
    money = 1 + math.log10(1 + (evidence.revenue or 0.0) / 100_000)
    momentum = 1 + min(1.0, max(-0.5, evidence.trend))
    return round(reach * severity * money * momentum, 2)


def parse_refs(refs: list[str]) -> dict[str, list[str]]:
    """``["feedback:12", "response:7"]`` grouped by kind; a bad entry names its position."""
    grouped: dict[str, list[str]] = {}
    for i, ref in enumerate(refs):
        kind, sep, rid = ref.partition(":")
        if not sep or not kind or not rid:
            raise BacklogError(f"records.{i}: use 'kind:id', got {ref!r}", f"records.{i}")
        grouped.setdefault(kind, []).append(rid)
    return grouped


def load_records(session: Session, refs: list[str]) -> list[RuleRecord]:
    known = sources()
    out: list[RuleRecord] = []
    for kind, ids in parse_refs(refs).items():
        source = known.get(kind)
        if source is not None:
            out.extend(source.by_ids(session, ids))
    return out


def theme_records(
    session: Session, theme: str, unit_ids: list[int], *, now: datetime, days: int = 90
) -> list[RuleRecord]:
    """Records of the last ``days`` that carry ``theme``, from every source."""
    out = []
    for source in sources().values():
        for rec in source.recent(session, since=now - timedelta(days=days), unit_ids=unit_ids):
            themes = rec.fields.get("theme") or []
            if theme in themes:
                out.append(rec)
    return out


def create_item(
    *,
    session: Session,
    org_unit_id: int,
    title: str,
    unit_ids: list[int],
    description: str = "",
    theme: str | None = None,
    refs: list[str] | None = None,
    created_by_id: int | None = None,
    now: datetime | None = None,
) -> BacklogItem:
    """A backlog item from a theme and/or explicit records, with evidence and impact."""
    at = now or utcnow()
    if not theme and not refs:
        raise BacklogError("give a theme or a list of records", "theme")
    records = load_records(session, refs or [])
    records = [r for r in records if r.org_unit_id in set(unit_ids)]
    if theme:
        seen = {(r.kind, r.id) for r in records}
        records += [
            r for r in theme_records(session, theme, unit_ids, now=at) if (r.kind, r.id) not in seen
        ]
    evidence = gather_evidence(session, records, at)
    item = BacklogItem(
        org_unit_id=org_unit_id,
        title=title[:300],
        description=description,
        theme=theme,
        records=[f"{r.kind}:{r.id}" for r in records] or list(refs or []),
        evidence=evidence.as_dict(),
        impact=impact(evidence),
        status="open",
        created_by_id=created_by_id,
        created_at=at,
        updated_at=at,
    )
    session.add(item)
    session.flush()
    return item


def set_status(*, session: Session, item: BacklogItem, status: str) -> BacklogItem:
    if status not in BACKLOG_STATUSES:
        raise BacklogError(f"status must be one of {', '.join(BACKLOG_STATUSES)}", "status")
    item.status = status
    item.updated_at = utcnow()
    session.flush()
    return item
