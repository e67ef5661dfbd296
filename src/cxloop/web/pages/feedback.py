"""The feedback explorer and the theme taxonomy page (themes, jobs, discovered clusters)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError

from cxloop.insight.text import TaxonomyError
from cxloop.signals.feedback_jobs import JobCreate, PromoteIn
from cxloop.signals.feedback_search import (
    SENTIMENT_LABELS,
    FeedbackFilter,
    WeeklyVolume,
    search,
    theme_sentiment,
    trending_themes,
    weekly_volume,
)
from cxloop.signals.feedback_taxonomy import (
    ThemeCreate,
    ThemeUpdate,
    create_theme,
    list_themes,
    taxonomy_version,
    theme_names,
    update_theme,
)
from cxloop.store.models.feedback import FEEDBACK_SOURCES, FeedbackJob, ThemeCluster
from cxloop.store.org import subtree
from cxloop.store.scope import scoped_page
from cxloop.web.api.feedback_admin import ADMIN, start_job
from cxloop.web.deps import HueyDep, PageUser, SessionDep
from cxloop.web.errors import ApiError
from cxloop.web.i18n import translate
from cxloop.web.render import NavItem, render

router = APIRouter(include_in_schema=False)
NAV = [
    NavItem("signals", "feedback.nav.explorer", "/feedback", "feedback:read", 20),
    NavItem("insight", "feedback.nav.themes", "/feedback/themes", "feedback:read", 30),
]
PAGE_SIZE = 25


def highlight(text: str, spans: list[tuple[int, int]]) -> Markup:
    """``text`` escaped, with ``spans`` wrapped in <mark>: markup is never built from raw text."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, s), min(len(text), e)) for s, e in spans):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Markup] = []
    pos = 0
    for start, end in merged:
        out.append(escape(text[pos:start]))
        out.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)


def _query_spans(text: str, query: str | None) -> list[tuple[int, int]]:
    if not query or not query.strip():
        return []
    needle, hay = query.strip().lower(), text.lower()
    spans: list[tuple[int, int]] = []
    start = hay.find(needle)
    while start >= 0 and len(spans) < 50:
        spans.append((start, start + len(needle)))
        start = hay.find(needle, start + 1)
    return spans


@router.get("/feedback")
def explorer(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    source: str | None = None,
    theme: str | None = None,
    sentiment: str | None = None,
    language: str | None = None,
    date_from: Annotated[str | None, Query()] = None,
    date_to: Annotated[str | None, Query()] = None,
    org_unit_id: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    principal.require("feedback:read")
    filters = FeedbackFilter(
        source or None,
        theme or None,
        sentiment or None,
        language or None,
        _date(date_from),
        _date(date_to),
        int(org_unit_id) if org_unit_id and org_unit_id.isdigit() else None,
        q or None,
    )
    rows, count = search(
        session=session,
        scope=principal.scope,
        filters=filters,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    names = theme_names(session=session, language=principal.language)
    records = []
    for row in rows:
        customer = [t for t in row.themes if t.speaker == "customer"]
        spans = [(int(s[0]), int(s[1])) for t in row.themes for s in t.spans]
        spans += _query_spans(row.display_text, filters.q)
        records.append(
            {
                "row": row,
                "html": highlight(row.display_text, spans),
                "themes": [names.get(t.theme_id, t.theme_id) for t in customer],
            }
        )
    params = {k: v for k, v in filters.__dict__.items() if v is not None}
    return render(
        request,
        "feedback/explorer.html",
        principal,
        session=session,
        filters=filters,
        records=records,
        count=count,
        page=page,
        pages=max(1, -(-count // PAGE_SIZE)),
        query=urlencode({k: str(v) for k, v in params.items()}),
        table=theme_sentiment(session=session, scope=principal.scope, filters=filters)[:15],
        trending=trending_themes(session=session, scope=principal.scope, filters=filters),
        weekly=_chart_data(
            weekly_volume(session=session, scope=principal.scope, filters=filters),
            principal.language,
        ),
        names=names,
        sources=FEEDBACK_SOURCES,
        labels=SENTIMENT_LABELS,
        units=subtree(session, principal.scope.unit_paths),
    )


def _chart_data(volume: WeeklyVolume, lang: str) -> dict[str, Any]:
    """The weekly chart's data for the page's JSON block (drawn by static/js/feedback.js)."""
    return {
        "weeks": [w.isoformat() for w in volume.weeks],
        "series": [
            {"label": label, "name": translate(f"feedback.sentiment.{label}", lang), "counts": n}
            for label, n in volume.counts.items()
            if any(n)
        ],
    }


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/feedback/themes")
def themes_page(
    request: Request, principal: PageUser, session: SessionDep, error: str | None = None
) -> Response:
    principal.require("feedback:read")
    jobs, _ = scoped_page(session, principal.scope, FeedbackJob, limit=10)
    clusters, _ = scoped_page(
        session, principal.scope, ThemeCluster, order_by=ThemeCluster.id.desc(), limit=30
    )
    latest = max((c.job_id for c in clusters), default=None)
    return render(
        request,
        "feedback/themes.html",
        principal,
        session=session,
        themes=list_themes(session=session),
        version=taxonomy_version(session=session),
        jobs=jobs,
        clusters=[c for c in clusters if c.job_id == latest],
        is_admin=principal.can(ADMIN),
        error=error,
    )


def _back(error: str | None = None) -> RedirectResponse:
    target = "/feedback/themes" + (f"?{urlencode({'error': error})}" if error else "")
    return RedirectResponse(target, status_code=303)


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.replace("、", ",").replace("\n", ",").split(",") if w.strip()]


@router.post("/feedback/themes")
def add_theme(
    principal: PageUser,
    session: SessionDep,
    key: Annotated[str, Form()] = "",
    name_en: Annotated[str, Form()] = "",
    name_ja: Annotated[str, Form()] = "",
    parent_key: Annotated[str, Form()] = "",
    terms_en: Annotated[str, Form()] = "",
    terms_ja: Annotated[str, Form()] = "",
) -> Response:
    principal.require(ADMIN)
    try:
        data = ThemeCreate(
            key=key.strip(),
            name_en=name_en.strip(),
            name_ja=name_ja.strip(),
            parent_key=parent_key or None,
            terms={"en": _words(terms_en), "ja": _words(terms_ja)},
        )
        create_theme(session=session, data=data, actor=principal.actor.label)
    except (TaxonomyError, ValidationError) as exc:
        return _back(str(exc).splitlines()[-1][:300])
    return _back()


@router.post("/feedback/themes/{key}")
def edit_theme(
    key: str,
    principal: PageUser,
    session: SessionDep,
    terms_en: Annotated[str, Form()] = "",
    terms_ja: Annotated[str, Form()] = "",
    phrases_en: Annotated[str, Form()] = "",
    phrases_ja: Annotated[str, Form()] = "",
    parent_key: Annotated[str, Form()] = "",
) -> Response:
    principal.require(ADMIN)
    data = ThemeUpdate(
        terms={"en": _words(terms_en), "ja": _words(terms_ja)},
        phrases={"en": _words(phrases_en), "ja": _words(phrases_ja)},
        parent_key=parent_key or None,
    )
    try:
        update_theme(session=session, key=key, data=data, actor=principal.actor.label)
    except TaxonomyError as exc:
        return _back(str(exc).splitlines()[-1][:300])
    return _back()


@router.post("/feedback/jobs")
def queue_job(
    principal: PageUser,
    session: SessionDep,
    huey: HueyDep,
    kind: Annotated[str, Form()] = "reanalyze",
) -> Response:
    principal.require(ADMIN)
    try:
        start_job(session, huey, principal, JobCreate.model_validate({"kind": kind}))
    except (ApiError, ValidationError) as exc:
        return _back(str(exc)[:300])
    return _back()


@router.post("/feedback/clusters/{cluster_id}/promote")
def promote(
    cluster_id: int,
    principal: PageUser,
    session: SessionDep,
    huey: HueyDep,
    key: Annotated[str, Form()] = "",
    name_en: Annotated[str, Form()] = "",
    name_ja: Annotated[str, Form()] = "",
) -> Response:
    from cxloop.signals.feedback_jobs import promote_cluster
    from cxloop.store.scope import scoped_get

    principal.require(ADMIN)
    cluster = scoped_get(session, principal.scope, ThemeCluster, cluster_id)
    if cluster is None or cluster.promoted_key:
        return _back("cluster not found or already promoted")
    try:
        data = PromoteIn(key=key.strip(), name_en=name_en.strip(), name_ja=name_ja.strip())
        promote_cluster(session=session, cluster=cluster, data=data, actor=principal.actor.label)
        start_job(session, huey, principal, JobCreate(kind="reanalyze"))
    except (TaxonomyError, ValidationError, ApiError) as exc:
        session.rollback()
        return _back(str(exc).splitlines()[-1][:300])
    return _back()
