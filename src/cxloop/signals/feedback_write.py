"""Writing a planned feedback batch: customers, records and theme rows in a few statements.

Every table gets one multi-row statement per batch (the ORM unit of work is far too slow
at import volumes). Inserts are ``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and
PostgreSQL alike, so a concurrent writer that stored the same ``(source, external_id)`` or
customer identity first is detected instead of failing the whole batch with a unique
violation: :func:`write_batch` hands those items back to be matched again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

from cxloop.store.base import utcnow
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.feedback import Feedback, FeedbackTheme
from cxloop.store.models.org import User

if TYPE_CHECKING:
    from cxloop.signals.feedback import IngestContext, _Pending

_FEEDBACK: Table = Feedback.__table__  # type: ignore[assignment]
_THEMES: Table = FeedbackTheme.__table__  # type: ignore[assignment]
_IDENTITIES: Table = CustomerIdentity.__table__  # type: ignore[assignment]
# Bound parameters per statement stay far below SQLite's limit (32,766) at these sizes.
_LOOKUP_CHUNK = 500


def insert_ignoring(bind: Session | Connection, table: Table) -> Insert:
    """``INSERT INTO table ... ON CONFLICT DO NOTHING`` for the session's database."""
    dialect = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"feedback storage supports SQLite and PostgreSQL, not {dialect}")


def write_batch(
    session: Session, todo: Sequence[_Pending], context: IngestContext, version: int
) -> list[_Pending]:
    """Store ``todo``; returns the new items whose key another writer stored meanwhile."""
    if not todo:
        return []
    customers = _customers(session, todo)
    _authors(session, todo, context)
    rows = [_row(p, customers, context, version) for p in todo]
    new = sorted(
        ((p, r) for p, r in zip(todo, rows, strict=True) if p.existing_id is None),
        key=lambda pr: pr[0].key,  # one lock order for every writer: no deadlocks on PostgreSQL
    )
    old = [(p, r) for p, r in zip(todo, rows, strict=True) if p.existing_id is not None]
    lost: list[_Pending] = []
    if new:
        stmt = insert_ignoring(session, _FEEDBACK).returning(
            _FEEDBACK.c.id, _FEEDBACK.c.source, _FEEDBACK.c.external_id
        )
        stored = {(s, e): i for i, s, e in session.execute(stmt, [r for _, r in new])}
        for p, _ in new:
            p.id = stored.get(p.key)
            if p.id is None:
                lost.append(p)
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
        if p.id is not None and p.enrichment is not None
        for t in p.enrichment.themes
    ]
    if themes:
        session.execute(_THEMES.insert(), themes)
    return lost


def _lookup(session: Session, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Customer id per known (kind, value) identity."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in pairs:
        by_kind.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        # One kind at a time: ``value IN (...)`` uses the (kind, value) index on both databases.
        for i in range(0, len(values), _LOOKUP_CHUNK):
            rows = session.execute(
                select(CustomerIdentity.value, CustomerIdentity.customer_id).where(
                    CustomerIdentity.kind == kind,
                    CustomerIdentity.value.in_(values[i : i + _LOOKUP_CHUNK]),
                )
            )
            found.update({(kind, value): cid for value, cid in rows})
    return found


def _customers(session: Session, todo: Sequence[_Pending]) -> dict[tuple[str, str], int]:
    wanted = sorted({i for p in todo for i in p.identities})
    known = _lookup(session, wanted)
    new: list[tuple[list[tuple[str, str]], dict[str, Any]]] = []
    for p in todo:
        ids = p.identities
        if ids and not any(i in known for i in ids):
            new.append((ids, {"org_unit_id": p.unit_id, "language": p.item.language}))
            for i in ids:
                known[i] = -1  # claimed in this batch; the id is filled in below
    if not new:
        return known
    customer_ids = session.scalars(
        Customer.__table__.insert().returning(  # type: ignore[attr-defined]
            Customer.id, sort_by_parameter_order=True
        ),
        [row for _, row in new],
    ).all()
    identity_rows = []
    for (ids, _), customer_id in zip(new, customer_ids, strict=True):
        for kind, value in ids:
            known[(kind, value)] = customer_id
            identity_rows.append({"customer_id": customer_id, "kind": kind, "value": value})
    identity_rows.sort(key=lambda r: (r["kind"], r["value"]))
    stmt = insert_ignoring(session, _IDENTITIES).returning(_IDENTITIES.c.kind, _IDENTITIES.c.value)
    inserted = {(k, v) for k, v in session.execute(stmt, identity_rows)}
    taken = [i for i in ((r["kind"], r["value"]) for r in identity_rows) if i not in inserted]
    if taken:
        # Another writer created these customers meanwhile: link to theirs, drop ours.
        known.update(_lookup(session, taken))
        kept = {known[i] for i in inserted}
        orphans = [cid for cid in customer_ids if cid not in kept]
        if orphans:
            session.execute(delete(Customer).where(Customer.id.in_(orphans)))
    return known


def _authors(session: Session, todo: Sequence[_Pending], context: IngestContext) -> None:
    emails = {p.item.author_email.lower() for p in todo if p.item.author_email}
    missing = emails - set(context._authors)
    if missing:
        found = dict(
            session.execute(select(User.email, User.id).where(User.email.in_(missing))).all()
        )
        for email in missing:
            context._authors[email] = found.get(email)


def _row(
    p: _Pending, customers: dict[tuple[str, str], int], context: IngestContext, version: int
) -> dict[str, Any]:
    e = p.enrichment
    assert e is not None
    item = p.item
    customer_id = next((customers[i] for i in p.identities if i in customers), None)
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
        "analyzer_mode": context.mode,
        "taxonomy_version": version,
        "analyzed_at": utcnow(),
    }
