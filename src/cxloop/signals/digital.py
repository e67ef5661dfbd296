"""Reading digital sessions: filtered lists, one session in full, page and selector rollups.

Every query is scoped by the org unit of the session's site. Closed sessions are read from
their stored scores; an open one is scored on read (nothing is stored until it closes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Integer, cast, exists, func, select
from sqlalchemy.orm import Session

from cxloop.signals.digital_counts import key_rejections
from cxloop.signals.digital_sessions import is_frustrated, score_row, site_of
from cxloop.store.models.digital import (
    DigitalCollectCount,
    DigitalPageScore,
    DigitalSession,
    DigitalSignal,
    DigitalSite,
)
from cxloop.store.scope import Scope, scoped_page


class SignalPublic(BaseModel):
    type: str
    at: datetime
    url: str
    selector: str
    details: dict[str, Any] = {}


class PageScorePublic(BaseModel):
    url: str
    views: int
    dxs: float
    active_ms: int
    max_scroll_depth: float
    signals: dict[str, int]


class DigitalSessionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    org_unit_id: int
    session_key: str
    status: str
    started_at: datetime
    last_seen_at: datetime
    events: int
    entry_url: str
    customer_id: int | None
    dxs: float | None
    pages: int
    signal_count: int
    frustrated: bool


class DigitalSessionDetail(DigitalSessionPublic):
    scored_live: bool
    pillars: dict[str, float]
    engagement: dict[str, Any]
    page_scores: list[PageScorePublic]
    signals: list[SignalPublic]


@dataclass(frozen=True)
class SessionFilters:
    site_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_dxs: float | None = None
    max_dxs: float | None = None
    signal: str | None = None
    session_key: str | None = None
    customer_id: int | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        s = DigitalSession
        out: list[ColumnElement[bool]] = []
        if self.site_id is not None:
            out.append(s.site_id == self.site_id)
        if self.since is not None:
            out.append(s.started_at >= self.since)
        if self.until is not None:
            out.append(s.started_at < self.until)
        if self.min_dxs is not None:
            out.append(s.dxs >= self.min_dxs)
        if self.max_dxs is not None:
            out.append(s.dxs <= self.max_dxs)
        if self.session_key is not None:
            out.append(s.session_key == self.session_key)
        if self.customer_id is not None:
            out.append(s.customer_id == self.customer_id)
        if self.status is not None:
            out.append(s.status == self.status)
        if self.signal is not None:
            out.append(
                exists().where(DigitalSignal.session_id == s.id, DigitalSignal.type == self.signal)
            )
        return out


def list_sessions(
    *, session: Session, scope: Scope, filters: SessionFilters, limit: int, offset: int
) -> tuple[list[DigitalSessionPublic], int]:
    rows, count = scoped_page(
        session,
        scope,
        DigitalSession,
        filters=filters.conditions(),
        order_by=DigitalSession.started_at.desc(),
        limit=limit,
        offset=offset,
    )
    return [DigitalSessionPublic.model_validate(r) for r in rows], count


def session_detail(*, session: Session, row: DigitalSession) -> DigitalSessionDetail:
    """One session with its pages, signals, engagement and DXS (scored now if still open)."""
    base = DigitalSessionPublic.model_validate(row).model_dump()
    if row.status == "open" or row.scored_at is None:
        site = site_of(session, row)
        scored = score_row(session, row, site)
        if scored is not None:
            r = scored.score
            eng = r.engagement
            base.update(
                dxs=r.dxs,
                pages=eng.pages,
                signal_count=len(r.signals),
                frustrated=is_frustrated(r, site),
            )
            return DigitalSessionDetail(
                **base,
                scored_live=True,
                pillars=dict(r.pillars),
                engagement={
                    "pages": eng.pages,
                    "duration_ms": eng.duration_ms,
                    "active_ms": eng.active_ms,
                    "max_scroll_depth": round(eng.max_scroll_depth, 4),
                    "mean_scroll_depth": round(eng.mean_scroll_depth, 4),
                },
                page_scores=[
                    PageScorePublic(
                        url=p.url,
                        views=p.views,
                        dxs=p.dxs,
                        active_ms=p.active_ms,
                        max_scroll_depth=p.max_scroll_depth,
                        signals=dict(p.signals),
                    )
                    for p in r.page_scores
                ],
                signals=[
                    SignalPublic(
                        type=s.type,
                        at=scored.at(s.at),
                        url=s.url,
                        selector=s.selector,
                        details=dict(s.details),
                    )
                    for s in r.signals
                ],
            )
    signals = session.scalars(
        select(DigitalSignal)
        .where(DigitalSignal.session_id == row.id)
        .order_by(DigitalSignal.at_ms, DigitalSignal.id)
    )
    pages = session.scalars(
        select(DigitalPageScore)
        .where(DigitalPageScore.session_id == row.id)
        .order_by(DigitalPageScore.position)
    )
    return DigitalSessionDetail(
        **base,
        scored_live=False,
        pillars=row.pillars or {},
        engagement=row.engagement or {},
        page_scores=[
            PageScorePublic(
                url=p.url,
                views=p.views,
                dxs=p.dxs,
                active_ms=p.active_ms,
                max_scroll_depth=p.max_scroll_depth,
                signals=p.signals or {},
            )
            for p in pages
        ],
        signals=[
            SignalPublic(
                type=s.type, at=s.at, url=s.url, selector=s.selector, details=s.details or {}
            )
            for s in signals
        ],
    )


class PageAggregate(BaseModel):
    url: str
    sessions: int
    views: int
    mean_dxs: float
    signals: dict[str, int]


class HotSpotAggregate(BaseModel):
    url: str
    selector: str
    count: int
    sessions: int
    types: dict[str, int]


class TrendPoint(BaseModel):
    day: date
    sessions: int
    mean_dxs: float
    frustrated_share: float


def _window(
    model: Any, column: Any, scope: Scope, site_id: int | None, since: Any, until: Any
) -> list[ColumnElement[bool]]:
    conds = [scope.condition(model.org_unit_id)]
    if site_id is not None:
        conds.append(model.site_id == site_id)
    if since is not None:
        conds.append(column >= since)
    if until is not None:
        conds.append(column < until)
    return conds


def worst_pages(
    *,
    session: Session,
    scope: Scope,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_sessions: int = 1,
    limit: int = 20,
) -> list[PageAggregate]:
    """Pages by their mean DXS over scored sessions, worst first."""
    p = DigitalPageScore
    conds = _window(p, p.started_at, scope, site_id, since, until)
    mean = func.avg(p.dxs)
    n = func.count(func.distinct(p.session_id))
    rows = session.execute(
        select(p.url, n, func.sum(p.views), mean)
        .where(*conds)
        .group_by(p.url)
        .having(n >= min_sessions)
        .order_by(mean, p.url)
        .limit(limit)
    ).all()
    urls = [r[0] for r in rows]
    signals: dict[str, dict[str, int]] = {u: {} for u in urls}
    if urls:
        sig = DigitalSignal
        sconds = _window(sig, sig.at, scope, site_id, None, None)
        if since is not None or until is not None:
            sconds.append(sig.session_id.in_(select(p.session_id).where(*conds)))
        for url, type_, count in session.execute(
            select(sig.url, sig.type, func.count())
            .where(*sconds, sig.url.in_(urls))
            .group_by(sig.url, sig.type)
        ):
            signals[url][type_] = int(count)
    return [
        PageAggregate(
            url=u,
            sessions=int(s),
            views=int(v or 0),
            mean_dxs=round(float(m), 2),
            signals=signals[u],
        )
        for u, s, v, m in rows
    ]


def hot_spots(
    *,
    session: Session,
    scope: Scope,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[HotSpotAggregate]:
    """Selectors where visitors show frustration, most signals first."""
    sig = DigitalSignal
    conds = [*_window(sig, sig.at, scope, site_id, since, until), sig.selector != ""]
    total = func.count()
    top = session.execute(
        select(sig.url, sig.selector, total, func.count(func.distinct(sig.session_id)))
        .where(*conds)
        .group_by(sig.url, sig.selector)
        .order_by(total.desc(), sig.url, sig.selector)
        .limit(limit)
    ).all()
    out = []
    for url, selector, count, sessions in top:
        types = session.execute(
            select(sig.type, func.count())
            .where(*conds, sig.url == url, sig.selector == selector)
            .group_by(sig.type)
        ).all()
        out.append(
            HotSpotAggregate(
                url=url,
                selector=selector,
                count=int(count),
                sessions=int(sessions),
                types={t: int(c) for t, c in types},
            )
        )
    return out


def dxs_trend(
    *,
    session: Session,
    scope: Scope,
    site_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[TrendPoint]:
    """Mean DXS of scored sessions per day (UTC) of their start."""
    s = DigitalSession
    conds = [*_window(s, s.started_at, scope, site_id, since, until), s.dxs.is_not(None)]
    day = func.date(s.started_at)
    rows = session.execute(
        select(day, func.count(), func.avg(s.dxs), func.sum(cast(s.frustrated, Integer)))
        .where(*conds)
        .group_by(day)
        .order_by(day)
    ).all()
    return [
        TrendPoint(
            day=d if isinstance(d, date) else date.fromisoformat(str(d)),
            sessions=int(n),
            mean_dxs=round(float(m), 2),
            frustrated_share=round(int(f or 0) / int(n), 4),
        )
        for d, n, m, f in rows
    ]


def collect_counts(
    *, session: Session, site_id: int, since: date | None = None
) -> dict[str, dict[str, int]]:
    """Collector outcomes of one site: ``{outcome: {"batches": n, "events": n}}``, with the
    batches refused while the site was inactive (``unknown_site``)."""
    c = DigitalCollectCount
    conds = [c.site_id == site_id]
    if since is not None:
        conds.append(c.day >= since)
    rows = session.execute(
        select(c.outcome, func.sum(c.batches), func.sum(c.events)).where(*conds).group_by(c.outcome)
    )
    out = {o: {"batches": int(b or 0), "events": int(e or 0)} for o, b, e in rows}
    key = session.scalar(select(DigitalSite.site_key).where(DigitalSite.id == site_id))
    if key:
        for reason, n in key_rejections(session=session, site_key=key, since=since).items():
            out.setdefault(reason, {"batches": 0, "events": 0})["batches"] += n
    return out
