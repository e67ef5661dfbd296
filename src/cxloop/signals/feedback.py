"""Feedback ingestion: validate, dedupe on (source, external_id), resolve, enrich, persist.

One function, :func:`ingest`, serves the API (one item or a batch) and file imports. It
returns one :class:`ItemResult` per item, in order: nothing is dropped without a reason.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from cxloop.insight.text import Mode
from cxloop.signals.customers import normalise_identity
from cxloop.signals.feedback_enrich import Enrichment, cut, enrich_many
from cxloop.signals.feedback_input import FeedbackCreate, Invalid, check_when, validate_item
from cxloop.signals.feedback_taxonomy import analyzer_for
from cxloop.store.base import utcnow
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.feedback import Feedback, FeedbackTheme
from cxloop.store.models.org import OrgUnit, User
from cxloop.store.scope import Scope

Status = Literal["created", "updated", "duplicate", "rejected"]
MAX_BATCH = 1000
Enricher = Callable[[list[tuple[str, str]]], list[Enrichment]]


@dataclass(frozen=True, slots=True)
class ItemResult:
    index: int
    status: Status
    id: int | None = None
    field: str | None = None
    reason: str | None = None


@dataclass
class IngestContext:
    """Who is sending and the defaults for items that do not say."""

    scope: Scope | None  # None: a system import that may write to every unit
    default_unit_id: int | None = None
    default_source: str | None = None
    mode: Mode = "fast"
    enricher: Enricher | None = None  # e.g. a process pool; default: this process
    now: datetime | None = None
    _units: dict[Any, tuple[int, str]] = field(default_factory=dict)
    _authors: dict[str, int | None] = field(default_factory=dict)


@dataclass
class _Pending:
    index: int
    item: FeedbackCreate
    unit_id: int
    when: datetime
    text: str
    truncated: bool
    key: tuple[str, str]
    digest: str
    existing_id: int | None = None
    enrichment: Enrichment | None = None
    id: int | None = None


def ingest(*, session: Session, items: Sequence[Any], context: IngestContext) -> list[ItemResult]:
    """Store ``items`` (dicts); a result per item, in order. Flushes, does not commit."""
    planned = plan(session=session, items=items, context=context)
    _enrich(session, planned.todo, context)
    return finish(session=session, planned=planned, context=context)


@dataclass
class Plan:
    """A batch checked and matched against stored records, ready to enrich and write."""

    size: int
    results: dict[int, ItemResult]
    todo: list[_Pending]
    keys: set[tuple[str, str]]  # every valid item's (source, external_id), written or not

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """What to enrich: (source, text) per item to write."""
        return [(p.item.source, p.text) for p in self.todo]


def plan(*, session: Session, items: Sequence[Any], context: IngestContext) -> Plan:
    """Validate ``items`` and decide each one: rejected, duplicate, or to create or update."""
    now = context.now or utcnow()
    results: dict[int, ItemResult] = {}
    pending: dict[tuple[str, str], _Pending] = {}
    for index, raw in enumerate(items):
        if isinstance(raw, dict) and context.default_source and not raw.get("source"):
            raw = {**raw, "source": context.default_source}
        try:
            p = _prepare(session, index, validate_item(raw), context, now)
        except Invalid as exc:
            results[index] = ItemResult(index, "rejected", field=exc.field, reason=exc.reason)
            continue
        earlier = pending.get(p.key)
        if earlier is not None:
            if earlier.digest == p.digest:
                results[index] = ItemResult(index, "duplicate", reason="repeated in this batch")
                continue
            results[earlier.index] = ItemResult(
                earlier.index, "duplicate", reason=f"superseded by item {index} (same external_id)"
            )
        pending[p.key] = p
    _match_existing(session, pending, results, context)
    todo = [p for p in pending.values() if p.index not in results]
    return Plan(len(items), results, todo, set(pending))


def finish(
    *,
    session: Session,
    planned: Plan,
    context: IngestContext,
    enrichments: Sequence[Enrichment] | None = None,
) -> list[ItemResult]:
    """Write a planned batch (enriched here unless ``enrichments`` are given)."""
    if enrichments is not None:
        for p, enrichment in zip(planned.todo, enrichments, strict=True):
            p.enrichment = enrichment
    elif any(p.enrichment is None for p in planned.todo):
        _enrich(session, planned.todo, context)
    _write(session, planned.todo, context)
    results = dict(planned.results)
    for p in planned.todo:
        status: Status = "updated" if p.existing_id is not None else "created"
        results[p.index] = ItemResult(p.index, status, id=p.id)
    return [results[i] for i in range(planned.size)]


def _prepare(
    session: Session, index: int, item: FeedbackCreate, context: IngestContext, now: datetime
) -> _Pending:
    unit_id, tz = _unit(session, item, context)
    when = item.occurred_at or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=ZoneInfo(tz))
    when = when.astimezone(UTC)
    check_when(when, now)
    text, truncated = cut(item.body())
    identities = _identities(item)
    external = item.external_id
    if not external:
        basis = [item.source, unit_id, item.occurred_at and when.isoformat(), identities, text]
        external = "auto:" + _hash(basis)[:40]
    digest = _hash(
        [
            text,
            item.rating,
            item.rating_scale,
            item.occurred_at and when.isoformat(),  # "now" is no part of the content
            unit_id,
            identities,
            item.touchpoint,
            item.channel,
            item.author_email,
            item.author_name,
            item.language,
            item.attributes,
        ]
    )
    return _Pending(index, item, unit_id, when, text, truncated, (item.source, external), digest)


def _hash(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _identities(item: FeedbackCreate) -> list[tuple[str, str]]:
    return sorted((k, normalise_identity(k, v)) for k, v in item.customer.items())


def _unit(session: Session, item: FeedbackCreate, context: IngestContext) -> tuple[int, str]:
    ref: Any = item.org_unit_id or item.org_unit or context.default_unit_id
    name = "org_unit_id" if item.org_unit_id else "org_unit"
    if ref is None:
        raise Invalid("org_unit", "missing: give org_unit (a unit code) or org_unit_id")
    if ref in context._units:
        return context._units[ref]
    column = OrgUnit.id if isinstance(ref, int) else OrgUnit.code
    row = session.execute(select(OrgUnit.id, OrgUnit.timezone).where(column == ref)).first()
    if row is None or (context.scope is not None and not context.scope.contains(session, row.id)):
        raise Invalid(name, f"unknown org unit {ref!r} (or outside your scope)")
    context._units[ref] = (row.id, row.timezone or "UTC")
    return context._units[ref]


def _match_existing(
    session: Session,
    pending: dict[tuple[str, str], _Pending],
    results: dict[int, ItemResult],
    context: IngestContext,
) -> None:
    by_source: dict[str, list[str]] = {}
    for source, external in pending:
        by_source.setdefault(source, []).append(external)
    for source, externals in by_source.items():
        rows = session.execute(
            select(
                Feedback.id, Feedback.external_id, Feedback.content_hash, Feedback.org_unit_id
            ).where(Feedback.source == source, Feedback.external_id.in_(externals))
        ).all()
        for row in rows:
            p = pending[(source, row.external_id)]
            if p.index in results:
                continue
            if context.scope is not None and not context.scope.contains(session, row.org_unit_id):
                results[p.index] = ItemResult(
                    p.index, "rejected", field="external_id", reason="already used elsewhere"
                )
            elif row.content_hash == p.digest:
                results[p.index] = ItemResult(p.index, "duplicate", id=row.id)
            else:
                p.existing_id = row.id


def _enrich(session: Session, todo: list[_Pending], context: IngestContext) -> None:
    if not todo:
        return
    pairs = [(p.item.source, p.text) for p in todo]
    if context.enricher is not None:
        found = context.enricher(pairs)
    else:
        analyzer, _ = analyzer_for(session=session, mode=context.mode)
        found = enrich_many(pairs, analyzer)
    for p, enrichment in zip(todo, found, strict=True):
        p.enrichment = enrichment


def _customers(session: Session, todo: list[_Pending]) -> dict[tuple[str, str], int]:
    wanted: dict[str, set[str]] = {}
    for p in todo:
        for kind, value in _identities(p.item):
            wanted.setdefault(kind, set()).add(value)
    known: dict[tuple[str, str], int] = {}
    for kind, values in wanted.items():
        rows = session.execute(
            select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                CustomerIdentity.kind == kind, CustomerIdentity.value.in_(values)
            )
        )
        known.update({(kind, value): cid for value, cid in rows})
    # New customers in two bulk statements: the ORM unit of work is slow at import volumes.
    new: list[tuple[list[tuple[str, str]], dict[str, Any]]] = []
    for p in todo:
        ids = _identities(p.item)
        if ids and not any(i in known for i in ids):
            new.append((ids, {"org_unit_id": p.unit_id, "language": p.item.language}))
            for i in ids:
                known[i] = -1  # claimed in this batch; the id is filled in below
    if new:
        customer_ids = session.scalars(
            insert(Customer).returning(Customer.id, sort_by_parameter_order=True),
            [row for _, row in new],
        ).all()
        identity_rows = []
        for (ids, _), customer_id in zip(new, customer_ids, strict=True):
            for kind, value in ids:
                known[(kind, value)] = customer_id
                identity_rows.append({"customer_id": customer_id, "kind": kind, "value": value})
        session.execute(insert(CustomerIdentity), identity_rows)
    return known


def _authors(session: Session, todo: list[_Pending], context: IngestContext) -> None:
    emails = {p.item.author_email.lower() for p in todo if p.item.author_email}
    missing = emails - set(context._authors)
    if missing:
        found = dict(
            session.execute(select(User.email, User.id).where(User.email.in_(missing))).all()
        )
        for email in missing:
            context._authors[email] = found.get(email)


def _write(session: Session, todo: list[_Pending], context: IngestContext) -> None:
    if not todo:
        return
    customers = _customers(session, todo)
    _authors(session, todo, context)
    version = analyzer_for(session=session, mode=context.mode)[1]
    rows = [_row(p, customers, context, context.mode, version) for p in todo]
    new = [(p, r) for p, r in zip(todo, rows, strict=True) if p.existing_id is None]
    old = [(p, r) for p, r in zip(todo, rows, strict=True) if p.existing_id is not None]
    if new:
        ids = session.scalars(
            insert(Feedback).returning(Feedback.id, sort_by_parameter_order=True),
            [r for _, r in new],
        ).all()
        for (p, _), new_id in zip(new, ids, strict=True):
            p.id = new_id
    if old:
        # Without a date of its own an update keeps the record's first one.
        changes = [
            {"id": p.existing_id, **{k: v for k, v in r.items() if k != "occurred_at"}}
            if p.item.occurred_at is None
            else {"id": p.existing_id, **r}
            for p, r in old
        ]
        session.execute(update(Feedback), changes)
        old_ids = [p.existing_id for p, _ in old]
        session.execute(delete(FeedbackTheme).where(FeedbackTheme.feedback_id.in_(old_ids)))
        for p, _ in old:
            p.id = p.existing_id
    themes = [
        {
            "feedback_id": p.id,
            "org_unit_id": p.unit_id,
            "theme_id": t.theme_id,
            "speaker": t.speaker,
            "score": t.score,
            "spans": [list(s) for s in t.spans],
        }
        for p in todo
        if p.enrichment is not None
        for t in p.enrichment.themes
    ]
    if themes:
        session.execute(insert(FeedbackTheme), themes)


def _row(
    p: _Pending,
    customers: dict[tuple[str, str], int],
    context: IngestContext,
    mode: str,
    version: int,
) -> dict[str, Any]:
    e = p.enrichment
    assert e is not None
    item = p.item
    customer_id = next((customers[i] for i in _identities(item) if i in customers), None)
    flags = list(e.flags) + (["truncated"] if p.truncated else [])
    author = context._authors.get(item.author_email.lower()) if item.author_email else None
    return {
        "org_unit_id": p.unit_id,
        "source": item.source,
        "external_id": p.key[1],
        "content_hash": p.digest,
        "text": p.text,
        "display_text": e.display_text,
        "rating": item.rating,
        "rating_scale": item.rating_scale,
        "occurred_at": p.when,
        "customer_id": customer_id,
        "touchpoint": item.touchpoint,
        "channel": item.channel,
        "author_user_id": author,
        "author_name": item.author_name,
        "attributes": item.attributes,
        "language": item.language or e.language,
        "sentiment_label": e.sentiment_label,
        "sentiment_score": e.sentiment_score,
        "agent_sentiment_label": e.agent_sentiment_label,
        "agent_sentiment_score": e.agent_sentiment_score,
        "flags": flags,
        "analyzer_mode": mode,
        "taxonomy_version": version,
        "analyzed_at": utcnow(),
    }
