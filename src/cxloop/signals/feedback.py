"""Feedback ingestion: validate, dedupe on (source, external_id), resolve, enrich, persist.

One function, :func:`ingest`, serves the API (one item or a batch) and file imports. It
returns one :class:`ItemResult` per item, in order: nothing is dropped without a reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, lazyload

from cxloop.insight.text import Mode
from cxloop.signals.customers import normalise_identity
from cxloop.signals.feedback_enrich import Enrichment, cut, enrich_many
from cxloop.signals.feedback_input import FeedbackCreate, Invalid, check_when, validate_item
from cxloop.signals.feedback_taxonomy import analyzer_for, taxonomy_version
from cxloop.signals.feedback_write import write_batch
from cxloop.signals.listeners import publish
from cxloop.store.base import utcnow
from cxloop.store.models.feedback import Feedback
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope

log = logging.getLogger(__name__)
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
    # The taxonomy version that enrichments passed to ``finish`` were made with.
    taxonomy_version: int | None = None
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
    identities: list[tuple[str, str]]
    existing_id: int | None = None
    enrichment: Enrichment | None = None
    version: int | None = None  # of the taxonomy the enrichment used
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
            p.version = context.taxonomy_version
    elif any(p.enrichment is None for p in planned.todo):
        _enrich(session, planned.todo, context)
    results = dict(planned.results)
    todo = planned.todo
    version = next((p.version for p in todo if p.version is not None), None)
    if version is None and todo:
        version = taxonomy_version(session=session)
    lost = write_batch(session, todo, context, version or 0)
    if lost:
        # Another writer stored these keys since ``plan``: now a duplicate or an update.
        _match_existing(session, {p.key: p for p in lost}, results, context)
        write_batch(session, [p for p in lost if p.index not in results], context, version or 0)
    for p in todo:
        if p.index not in results:
            status: Status = "updated" if p.existing_id is not None else "created"
            results[p.index] = ItemResult(p.index, status, id=p.id)
    # Survey comments reach the rules with their response; everything else new goes now.
    created = [
        p.id
        for p in todo
        if p.id is not None
        and results[p.index].status == "created"
        and p.item.source != "survey_comment"
    ]
    if created:
        publish(session, "feedback", _stored(session, created))
    return [results[i] for i in range(planned.size)]


def _stored(session: Session, ids: list[int]) -> list[Feedback]:
    """The new rows for the listeners. Themes and the raw text load only if a listener
    asks: loading every theme row back took a third of a bulk import's main process."""
    stmt = (
        select(Feedback)
        .where(Feedback.id.in_(ids))
        .options(lazyload(Feedback.themes), defer(Feedback.text), defer(Feedback.attributes))
    )
    return list(session.scalars(stmt))


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
    key = (item.source, external)
    return _Pending(index, item, unit_id, when, text, truncated, key, digest, identities)


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
    version = None
    if context.enricher is not None:
        found = context.enricher(pairs)
        version = context.taxonomy_version
    else:
        analyzer, version = analyzer_for(session=session, mode=context.mode)
        found = enrich_many(pairs, analyzer)
    for p, enrichment in zip(todo, found, strict=True):
        p.enrichment = enrichment
        p.version = version
