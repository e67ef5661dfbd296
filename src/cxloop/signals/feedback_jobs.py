"""Long runs over many feedback records, with progress kept in a job row.

Re-analysis applies the current taxonomy (and analyzer mode) to past records; discovery
clusters the records no theme explains so that an admin can promote a cluster to a theme.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from cxloop.insight.text import Mode, discover_themes
from cxloop.signals.feedback_enrich import enrich_many
from cxloop.signals.feedback_taxonomy import ThemeCreate, analyzer_for, create_theme
from cxloop.store.base import utcnow
from cxloop.store.engine import session_scope
from cxloop.store.models.feedback import (
    Feedback,
    FeedbackJob,
    FeedbackTheme,
    ThemeCluster,
    ThemeDefinition,
)
from cxloop.store.models.org import OrgUnit
from cxloop.store.scope import Scope

JobKind = Literal["reanalyze", "discover"]
CHUNK = 500
DISCOVERY_MAX_RECORDS = 5000
_log = logging.getLogger(__name__)
_JA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: JobKind
    org_unit_id: int | None = None
    mode: Mode = "fast"
    max_records: int = Field(default=DISCOVERY_MAX_RECORDS, ge=10, le=50_000)


class PromoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=64)
    name_en: str = Field(min_length=1, max_length=200)
    name_ja: str = Field(min_length=1, max_length=200)
    parent_key: str | None = None
    terms: dict[str, list[str]] | None = None  # default: the cluster's terms, by script


def create_job(
    *, session: Session, data: JobCreate, org_unit_id: int, actor: str | None
) -> FeedbackJob:
    job = FeedbackJob(
        org_unit_id=org_unit_id,
        kind=data.kind,
        status="queued",
        params=data.model_dump(exclude={"kind", "org_unit_id"}),
        created_by=actor,
    )
    session.add(job)
    session.flush()
    return job


def _scope_of(session: Session, job: FeedbackJob) -> Scope:
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == job.org_unit_id))
    return Scope((path,)) if path else Scope(())


def run_job(database_url: str, job_id: int) -> None:
    """Run a queued job to the end, committing progress as it goes; failures are recorded."""
    with session_scope(database_url) as session:
        job = session.get(FeedbackJob, job_id)
        if job is None or job.status not in ("queued", "running"):
            return
        job.status, job.started_at, job.processed = "running", utcnow(), 0
        kind = job.kind
    try:
        if kind == "reanalyze":
            _reanalyze(database_url, job_id)
        else:
            _discover(database_url, job_id)
    except Exception as exc:  # noqa: BLE001 - the failure is kept on the job for people to see
        _log.exception("feedback job %s failed", job_id)
        with session_scope(database_url) as session:
            job = session.get(FeedbackJob, job_id)
            if job is not None:
                job.status, job.error, job.finished_at = "failed", str(exc)[:2000], utcnow()
        return
    with session_scope(database_url) as session:
        job = session.get(FeedbackJob, job_id)
        if job is not None:
            job.status, job.finished_at = "done", utcnow()


def _reanalyze(database_url: str, job_id: int) -> None:
    with session_scope(database_url) as session:
        job = session.get(FeedbackJob, job_id)
        assert job is not None
        scope = _scope_of(session, job)
        mode = job.params.get("mode", "fast")
        where = scope.condition(Feedback.org_unit_id)
        job.total = session.scalar(select(func.count()).select_from(Feedback).where(where)) or 0
    last = 0
    while True:
        with session_scope(database_url) as session:
            rows = session.execute(
                select(
                    Feedback.id,
                    Feedback.source,
                    Feedback.text,
                    Feedback.org_unit_id,
                    Feedback.flags,
                )
                .where(scope.condition(Feedback.org_unit_id), Feedback.id > last)
                .order_by(Feedback.id)
                .limit(CHUNK)
            ).all()
            if not rows:
                return
            analyzer, version = analyzer_for(session=session, mode=mode)
            found = enrich_many([(r.source, r.text) for r in rows], analyzer)
            _store(session, rows, found, mode, version)
            session.execute(
                update(FeedbackJob)
                .where(FeedbackJob.id == job_id)
                .values(processed=FeedbackJob.processed + len(rows))
            )
            last = rows[-1].id


def _store(session: Session, rows: Any, found: Any, mode: str, version: int) -> None:
    ids = [r.id for r in rows]
    changes = []
    for r, e in zip(rows, found, strict=True):
        kept = [f for f in r.flags or [] if f == "truncated"]
        changes.append(
            {
                "id": r.id,
                "display_text": e.display_text,
                "language": e.language,
                "sentiment_label": e.sentiment_label,
                "sentiment_score": e.sentiment_score,
                "agent_sentiment_label": e.agent_sentiment_label,
                "agent_sentiment_score": e.agent_sentiment_score,
                "flags": list(e.flags) + kept,
                "analyzer_mode": mode,
                "taxonomy_version": version,
                "analyzed_at": utcnow(),
            }
        )
    session.execute(update(Feedback), changes)
    session.execute(delete(FeedbackTheme).where(FeedbackTheme.feedback_id.in_(ids)))
    themes = [
        {
            "feedback_id": r.id,
            "org_unit_id": r.org_unit_id,
            "theme_id": t.theme_id,
            "speaker": t.speaker,
            "score": t.score,
            "spans": [list(s) for s in t.spans],
        }
        for r, e in zip(rows, found, strict=True)
        for t in e.themes
    ]
    if themes:
        session.execute(insert(FeedbackTheme), themes)


def _discover(database_url: str, job_id: int) -> None:
    with session_scope(database_url) as session:
        job = session.get(FeedbackJob, job_id)
        assert job is not None
        scope = _scope_of(session, job)
        explained = exists().where(
            FeedbackTheme.feedback_id == Feedback.id, FeedbackTheme.speaker == "customer"
        )
        rows = session.execute(
            select(Feedback.id, Feedback.display_text)
            .where(scope.condition(Feedback.org_unit_id), ~explained)
            .order_by(Feedback.occurred_at.desc(), Feedback.id.desc())
            .limit(int(job.params.get("max_records", DISCOVERY_MAX_RECORDS)))
        ).all()
        job.total = len(rows)
        unit_id = job.org_unit_id
    texts = [r.display_text for r in rows]
    found = discover_themes(texts) if len(texts) >= 3 else []
    with session_scope(database_url) as session:
        for theme in found:
            session.add(
                ThemeCluster(
                    job_id=job_id,
                    org_unit_id=unit_id,
                    label=theme.label[:300],
                    terms=theme.terms,
                    size=theme.size,
                    examples=[
                        {"feedback_id": rows[i].id, "text": texts[i][:300]} for i in theme.examples
                    ],
                )
            )
        job = session.get(FeedbackJob, job_id)
        assert job is not None
        job.processed = len(rows)


def terms_by_language(terms: list[str]) -> dict[str, list[str]]:
    """Split discovered terms into Japanese and English lists for the taxonomy."""
    out: dict[str, list[str]] = {}
    for term in terms:
        out.setdefault("ja" if _JA.search(term) else "en", []).append(term)
    return out


def promote_cluster(
    *, session: Session, cluster: ThemeCluster, data: PromoteIn, actor: str | None
) -> ThemeDefinition:
    """Add the cluster to the taxonomy as a theme (raises TaxonomyError naming the field)."""
    theme = create_theme(
        session=session,
        data=ThemeCreate(
            key=data.key,
            name_en=data.name_en,
            name_ja=data.name_ja,
            parent_key=data.parent_key,
            description=f"Discovered: {cluster.label}",
            terms=data.terms if data.terms is not None else terms_by_language(cluster.terms),
        ),
        actor=actor,
        origin="discovered",
    )
    cluster.promoted_key = data.key
    return theme
