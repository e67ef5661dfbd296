"""Feedback records: send one or a batch, list with filters and search, read, export."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from cxloop.csv_export import CSV_MEDIA_TYPE, csv_safe, csv_writer, download_headers
from cxloop.signals.feedback import MAX_BATCH, IngestContext, ItemResult, ingest
from cxloop.signals.feedback_search import (
    FeedbackFilter,
    iter_matching,
    search,
    theme_sentiment,
    trending_themes,
)
from cxloop.store import audit
from cxloop.store.engine import session_scope
from cxloop.store.models.feedback import Feedback
from cxloop.store.scope import Scope
from cxloop.web.deps import CurrentPrincipal, Pagination, SessionDep, SettingsDep
from cxloop.web.errors import ApiError, visible_or_404
from cxloop.web.schemas import Page

router = APIRouter(tags=["feedback"])


class ThemeHitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    theme_id: str
    speaker: str
    score: float
    spans: list[list[int]]


class FeedbackPublic(BaseModel):
    """A record as shown: ``text`` is the PII-masked display text the spans index into."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    org_unit_id: int
    source: str
    external_id: str
    text: str
    language: str
    rating: float | None
    rating_scale: int | None
    occurred_at: datetime
    received_at: datetime
    customer_id: int | None
    touchpoint: str | None
    channel: str | None
    author_user_id: int | None
    author_name: str | None
    attributes: dict[str, Any]
    sentiment_label: str
    sentiment_score: float
    agent_sentiment_label: str | None
    agent_sentiment_score: float | None
    themes: list[ThemeHitPublic]
    flags: list[str]
    analyzer_mode: str
    taxonomy_version: int

    @classmethod
    def of(cls, row: Feedback) -> FeedbackPublic:
        data = {name: getattr(row, name) for name in cls.model_fields if name != "text"}
        data["themes"] = [ThemeHitPublic.model_validate(t) for t in row.themes]
        return cls(text=row.display_text, **data)


class ItemResultPublic(BaseModel):
    index: int
    status: str
    id: int | None = None
    field: str | None = None
    reason: str | None = None


class BatchResultPublic(BaseModel):
    data: list[ItemResultPublic]
    counts: dict[str, int]


def feedback_filter(
    source: str | None = None,
    theme: str | None = None,
    sentiment: str | None = None,
    language: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    org_unit_id: int | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> FeedbackFilter:
    return FeedbackFilter(
        source, theme, sentiment, language, date_from, date_to, org_unit_id, q or None
    )


FilterDep = Annotated[FeedbackFilter, Depends(feedback_filter)]


def _public_result(r: ItemResult) -> ItemResultPublic:
    return ItemResultPublic(index=r.index, status=r.status, id=r.id, field=r.field, reason=r.reason)


@router.post("/feedback", response_model=None)
def send_feedback(
    principal: CurrentPrincipal,
    session: SessionDep,
    response: Response,
    body: Annotated[dict[str, Any], Body()],
) -> FeedbackPublic | BatchResultPublic:
    """One record (answers the record), or ``{"items": [...]}`` up to 1,000 (answers a
    result per item: created, updated, duplicate or rejected with field and reason)."""
    principal.require("feedback:write")
    # Commit the key's last-use stamp now: on SQLite its UPDATE would otherwise hold the one
    # write lock through analysis and make simultaneous senders time out.
    session.commit()
    context = IngestContext(scope=principal.scope)
    if "items" not in body:
        (result,) = ingest(session=session, items=[body], context=context)
        if result.status == "rejected":
            raise ApiError(422, f"{result.field}: {result.reason}", field=result.field)
        response.status_code = 201 if result.status == "created" else 200
        row = session.get(Feedback, result.id)
        assert row is not None
        session.refresh(row)
        return FeedbackPublic.of(row)
    items = body["items"]
    if set(body) != {"items"}:
        raise ApiError(422, "a batch body has only 'items'", field=sorted(set(body) - {"items"})[0])
    if not isinstance(items, list) or not items:
        raise ApiError(422, "items: must be a non-empty list", field="items")
    if len(items) > MAX_BATCH:
        raise ApiError(413, f"items: at most {MAX_BATCH} per request", field="items")
    results = ingest(session=session, items=items, context=context)
    counts = {s: 0 for s in ("created", "updated", "duplicate", "rejected")}
    for r in results:
        counts[r.status] += 1
    return BatchResultPublic(data=[_public_result(r) for r in results], counts=counts)


@router.get("/feedback")
def list_feedback(
    principal: CurrentPrincipal, session: SessionDep, page: Pagination, filters: FilterDep
) -> Page[FeedbackPublic]:
    principal.require("feedback:read")
    rows, count = search(
        session=session,
        scope=principal.scope,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        data=[FeedbackPublic.of(r) for r in rows], count=count, limit=page.limit, offset=page.offset
    )


EXPORT_COLUMNS = (
    "id",
    "occurred_at",
    "org_unit_id",
    "source",
    "external_id",
    "language",
    "sentiment_label",
    "sentiment_score",
    "rating",
    "themes",
    "text",
)


def export_lines(rows: Iterator[Feedback]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        themes = ";".join(sorted({t.theme_id for t in row.themes if t.speaker == "customer"}))
        values = [getattr(row, c) for c in EXPORT_COLUMNS[:-2]]
        writer.writerow([csv_safe(v) for v in [*values, themes, row.display_text]])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@router.get("/feedback/export.csv", response_class=Response)
def export_feedback(
    principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep, filters: FilterDep
) -> Response:
    """The filtered list as CSV, streamed (its own session: the request's closes first)."""
    principal.require("feedback:read")
    principal.require("export")
    audit.record(
        session,
        principal.actor,
        "export",
        target_type="feedback",
        filters={k: str(v) for k, v in filters.__dict__.items() if v is not None},
    )
    return StreamingResponse(
        _stream(settings.resolved_database_url, principal.scope, filters),
        media_type=CSV_MEDIA_TYPE,
        headers=download_headers("feedback.csv"),
    )


def _stream(database_url: str, scope: Scope, filters: FeedbackFilter) -> Iterator[str]:
    with session_scope(database_url) as session:
        yield from export_lines(iter_matching(session=session, scope=scope, filters=filters))


class ThemeSentimentPublic(BaseModel):
    theme_id: str
    total: int
    counts: dict[str, int]
    negative_share: float


class ThemeShiftPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    theme: str
    count_before: int
    count_after: int
    share_before: float
    share_after: float
    change: float
    p_value: float
    significant: bool


class FeedbackSummary(BaseModel):
    theme_sentiment: list[ThemeSentimentPublic]
    trending: list[ThemeShiftPublic]
    days: int


@router.get("/feedback/summary")
def feedback_summary(
    principal: CurrentPrincipal,
    session: SessionDep,
    filters: FilterDep,
    days: Annotated[int, Query(ge=1, le=365)] = 30,
) -> FeedbackSummary:
    """Theme × sentiment counts, and themes trending over the last ``days`` vs the previous."""
    principal.require("feedback:read")
    table = theme_sentiment(session=session, scope=principal.scope, filters=filters)
    shifts = trending_themes(session=session, scope=principal.scope, filters=filters, days=days)
    return FeedbackSummary(
        theme_sentiment=[
            ThemeSentimentPublic(
                theme_id=r.theme_id, total=r.total, counts=r.counts, negative_share=r.negative_share
            )
            for r in table
        ],
        trending=[ThemeShiftPublic.model_validate(s) for s in shifts],
        days=days,
    )


@router.get("/feedback/{feedback_id:int}")
def get_feedback(
    feedback_id: int, principal: CurrentPrincipal, session: SessionDep
) -> FeedbackPublic:
    principal.require("feedback:read")
    row = visible_or_404(session, principal.scope, Feedback, feedback_id, "feedback")
    return FeedbackPublic.of(row)
