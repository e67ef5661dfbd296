"""DXS and surveys: how the digital experience of identified customers relates to their NPS.

Each scored session of a known customer is paired with that customer's first completed
survey response with an NPS answer within ``window`` after the session started. The pairs
are binned by DXS (mean NPS answer and NPS per bin) and summarised by Spearman's rho.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from scipy import stats
from sqlalchemy import select
from sqlalchemy.orm import Session

from cxloop.store.models.digital import DigitalSession
from cxloop.store.scope import Scope

DXS_BINS: tuple[tuple[float, float], ...] = ((0, 2), (2, 4), (4, 6), (6, 8), (8, 10.0001))


class DxsBin(BaseModel):
    low: float
    high: float
    n: int
    mean_nps_answer: float | None
    nps: float | None  # % promoters - % detractors


class DxsSurveyRelation(BaseModel):
    available: bool  # False when the survey area is not installed
    pairs: int
    spearman_rho: float | None
    p_value: float | None
    bins: list[DxsBin]


def relation(pairs: Sequence[tuple[float, int]]) -> DxsSurveyRelation:
    """Bin (dxs, nps answer 0..10) pairs and correlate them. Pure."""
    bins = []
    for low, high in DXS_BINS:
        answers = [a for d, a in pairs if low <= d < high]
        n = len(answers)
        nps = None
        if n:
            promoters = sum(a >= 9 for a in answers)
            detractors = sum(a <= 6 for a in answers)
            nps = round(100.0 * (promoters - detractors) / n, 1)
        bins.append(
            DxsBin(
                low=low,
                high=min(high, 10.0),
                n=n,
                mean_nps_answer=round(float(np.mean(answers)), 2) if n else None,
                nps=nps,
            )
        )
    rho = p = None
    if len(pairs) >= 3:
        d = np.array([x for x, _ in pairs], dtype=float)
        a = np.array([y for _, y in pairs], dtype=float)
        if np.ptp(d) > 0 and np.ptp(a) > 0:
            res = stats.spearmanr(d, a)
            rho, p = round(float(res.statistic), 4), float(res.pvalue)
    return DxsSurveyRelation(
        available=True, pairs=len(pairs), spearman_rho=rho, p_value=p, bins=bins
    )


def _survey_response_model() -> Any:
    try:
        return importlib.import_module("cxloop.store.models.surveys").SurveyResponse
    except (ImportError, AttributeError):
        return None


def dxs_vs_survey(
    *,
    session: Session,
    scope: Scope,
    site_id: int | None = None,
    since: datetime | None = None,
    window: timedelta = timedelta(days=14),
) -> DxsSurveyRelation:
    """The DXS-to-NPS relation over the scored, identified sessions visible in ``scope``."""
    response = _survey_response_model()
    if response is None:
        return DxsSurveyRelation(available=False, pairs=0, spearman_rho=None, p_value=None, bins=[])
    s = DigitalSession
    conds = [scope.condition(s.org_unit_id), s.dxs.is_not(None), s.customer_id.is_not(None)]
    if site_id is not None:
        conds.append(s.site_id == site_id)
    if since is not None:
        conds.append(s.started_at >= since)
    sessions: list[Any] = list(
        session.execute(select(s.customer_id, s.started_at, s.dxs).where(*conds)).all()
    )
    if not sessions:
        return relation([])
    customers = {c for c, _, _ in sessions}
    answers: dict[int, list[tuple[datetime, int]]] = {}
    rows = session.execute(
        select(response.customer_id, response.completed_at, response.nps)
        .where(
            response.customer_id.in_(customers),
            response.completed_at.is_not(None),
            response.nps.is_not(None),
        )
        .order_by(response.completed_at)
    )
    for customer_id, at, nps in rows:
        answers.setdefault(customer_id, []).append((at, nps))
    pairs = []
    for customer_id, started, dxs in sessions:
        for at, nps in answers.get(customer_id, []):
            if started <= at <= started + window:
                pairs.append((float(dxs), int(nps)))
                break
    return relation(pairs)
