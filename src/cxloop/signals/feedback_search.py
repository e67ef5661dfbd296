"""Finding feedback: filters, full-text search that works for Japanese, summaries.

Search uses character trigrams (Japanese has no spaces): FTS5 ``trigram`` on SQLite,
``pg_trgm`` GIN index with ILIKE on PostgreSQL. Queries shorter than three characters
cannot use trigrams and fall back to a LIKE scan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, exists, func, select, text
from sqlalchemy.orm import Session, aliased

from cxloop.insight.explain import ThemeShift, theme_shifts
from cxloop.store.models.feedback import Feedback, FeedbackTheme
from cxloop.store.scope import Scope

SENTIMENT_LABELS = ("very_negative", "negative", "mixed", "neutral", "positive", "very_positive")
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class FeedbackFilter:
    source: str | None = None
    theme: str | None = None
    sentiment: str | None = None
    language: str | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    org_unit_id: int | None = None
    q: str | None = None


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def text_condition(session: Session, query: str) -> ColumnElement[bool]:
    query = query.strip()[:MAX_QUERY_CHARS]
    pattern = f"%{_like_escape(query)}%"
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return Feedback.display_text.ilike(pattern, escape="\\")
    if len(query) < 3:
        return Feedback.display_text.like(pattern, escape="\\")
    phrase = '"' + query.replace('"', '""') + '"'
    fts = text("SELECT rowid FROM feedback_fts WHERE feedback_fts MATCH :phrase").bindparams(
        phrase=phrase
    )
    return Feedback.id.in_(fts)


def conditions(session: Session, scope: Scope, f: FeedbackFilter) -> list[ColumnElement[bool]]:
    """SQL conditions for ``f``; an org unit outside ``scope`` matches nothing."""
    out: list[ColumnElement[bool]] = []
    if f.source:
        out.append(Feedback.source == f.source)
    if f.sentiment:
        out.append(Feedback.sentiment_label == f.sentiment)
    if f.language:
        out.append(Feedback.language == f.language)
    if f.date_from:
        out.append(Feedback.occurred_at >= datetime.combine(f.date_from, time(), UTC))
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time(), UTC)
        out.append(Feedback.occurred_at < end)
    if f.org_unit_id is not None:
        out.append(scope.narrowed(session, f.org_unit_id).condition(Feedback.org_unit_id))
        if not scope.contains(session, f.org_unit_id):
            out.append(Feedback.id.is_(None))
    if f.theme:
        hit = aliased(FeedbackTheme)  # own alias: callers may join feedback_themes too
        out.append(
            exists()
            .where(hit.feedback_id == Feedback.id, hit.theme_id == f.theme)
            .where(hit.speaker == "customer")
            .correlate(Feedback)
        )
    if f.q and f.q.strip():
        out.append(text_condition(session, f.q))
    return out


def search(
    *, session: Session, scope: Scope, filters: FeedbackFilter, limit: int = 50, offset: int = 0
) -> tuple[list[Feedback], int]:
    """One page of matching records visible in ``scope``, newest first, and the total."""
    base = select(Feedback).where(
        scope.condition(Feedback.org_unit_id), *conditions(session, scope, filters)
    )
    count = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    order = (Feedback.occurred_at.desc(), Feedback.id.desc())
    rows = session.scalars(base.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(count)


def iter_matching(
    *, session: Session, scope: Scope, filters: FeedbackFilter, chunk: int = 1000
) -> Iterator[Feedback]:
    """Every matching record, streamed in id order (for exports)."""
    stmt = (
        select(Feedback)
        .where(scope.condition(Feedback.org_unit_id), *conditions(session, scope, filters))
        .order_by(Feedback.id)
        .execution_options(yield_per=chunk)
    )
    yield from session.scalars(stmt)


@dataclass(frozen=True)
class ThemeSentimentRow:
    theme_id: str
    total: int
    counts: dict[str, int]  # sentiment label -> records

    @property
    def negative_share(self) -> float:
        neg = self.counts.get("negative", 0) + self.counts.get("very_negative", 0)
        return neg / self.total if self.total else 0.0


def theme_sentiment(
    *, session: Session, scope: Scope, filters: FeedbackFilter
) -> list[ThemeSentimentRow]:
    """Records per theme and sentiment label (customer side), biggest theme first."""
    matching = (
        select(Feedback.id, Feedback.sentiment_label)
        .where(scope.condition(Feedback.org_unit_id), *conditions(session, scope, filters))
        .subquery()
    )
    stmt = (
        select(FeedbackTheme.theme_id, matching.c.sentiment_label, func.count())
        .join(matching, matching.c.id == FeedbackTheme.feedback_id)
        .where(FeedbackTheme.speaker == "customer")
        .group_by(FeedbackTheme.theme_id, matching.c.sentiment_label)
    )
    table: dict[str, dict[str, int]] = {}
    for theme_id, label, n in session.execute(stmt):
        table.setdefault(theme_id, {})[label] = int(n)
    rows = [ThemeSentimentRow(t, sum(c.values()), c) for t, c in table.items()]
    rows.sort(key=lambda r: (-r.total, r.theme_id))
    return rows


def _period_counts(
    session: Session, scope: Scope, filters: FeedbackFilter, start: datetime, end: datetime
) -> tuple[dict[str, int], int]:
    base = [
        scope.condition(Feedback.org_unit_id),
        *conditions(session, scope, filters),
        Feedback.occurred_at >= start,
        Feedback.occurred_at < end,
    ]
    total = session.scalar(select(func.count()).select_from(Feedback).where(*base)) or 0
    stmt = (
        select(FeedbackTheme.theme_id, func.count(func.distinct(FeedbackTheme.feedback_id)))
        .join(Feedback, Feedback.id == FeedbackTheme.feedback_id)
        .where(*base, FeedbackTheme.speaker == "customer")
        .group_by(FeedbackTheme.theme_id)
    )
    return {t: int(n) for t, n in session.execute(stmt)}, int(total)


def trending_themes(
    *,
    session: Session,
    scope: Scope,
    filters: FeedbackFilter,
    days: int = 30,
    until: datetime | None = None,
    top: int = 10,
) -> list[ThemeShift]:
    """Themes whose share of records changed most, last ``days`` against the ``days`` before.

    Each shift carries a two-proportion z test; ``significant`` is at 5 %.
    """
    end = until or datetime.now(UTC)
    mid = end - timedelta(days=days)
    start = mid - timedelta(days=days)
    plain = FeedbackFilter(**{**filters.__dict__, "date_from": None, "date_to": None})
    before, n0 = _period_counts(session, scope, plain, start, mid)
    after, n1 = _period_counts(session, scope, plain, mid, end)
    if not n0 or not n1:
        return []
    return theme_shifts(before, n0, after, n1, top=top)


@dataclass(frozen=True)
class WeeklyVolume:
    weeks: list[date]  # Mondays (UTC), oldest first
    counts: dict[str, list[int]]  # sentiment label -> records per week, aligned with weeks


def weekly_volume(
    *,
    session: Session,
    scope: Scope,
    filters: FeedbackFilter,
    weeks: int = 26,
    today: date | None = None,
) -> WeeklyVolume:
    """Matching records per ISO week (UTC) and sentiment label, for the last ``weeks`` weeks.

    The window ends with the week of ``filters.date_to`` when given, else of ``today``.
    Grouped by day in SQL (at most 7 x ``weeks`` x 6 rows back), weeks are summed here.
    """
    last = filters.date_to or today or datetime.now(UTC).date()
    last_monday = last - timedelta(days=last.weekday())
    mondays = [last_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    start = datetime.combine(mondays[0], time(), UTC)
    day = func.date(Feedback.occurred_at)
    stmt = (
        select(day, Feedback.sentiment_label, func.count())
        .where(
            scope.condition(Feedback.org_unit_id),
            *conditions(session, scope, filters),
            Feedback.occurred_at >= start,
        )
        .group_by(day, Feedback.sentiment_label)
    )
    index = {monday: i for i, monday in enumerate(mondays)}
    counts = {label: [0] * weeks for label in SENTIMENT_LABELS}
    for value, label, n in session.execute(stmt):
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        i = index.get(d - timedelta(days=d.weekday()))
        if i is not None and label in counts:
            counts[label][i] += int(n)
    return WeeklyVolume(mondays, counts)
