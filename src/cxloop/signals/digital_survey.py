"""DXS and surveys: how the digital experience of identified customers relates to their
NPS and CSAT.

Each scored session of a known customer is paired with that customer's first completed
survey response with an NPS answer within ``window`` after the session started, and apart
from that with the first one with a CSAT answer (1-5). The pairs are binned by DXS (mean
answer, NPS and CSAT top-2 share per bin) and each kind is summarised by Spearman's rho.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel
from scipy import stats
from sqlalchemy import or_, select
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
    csat_n: int = 0
    mean_csat: float | None = None
    csat_top2: float | None = None  # % answering 4 or 5


class DxsSurveyRelation(BaseModel):
    available: bool  # False when the survey area is not installed
    pairs: int
    spearman_rho: float | None
    p_value: float | None
    bins: list[DxsBin]
    csat_pairs: int = 0
    csat_spearman_rho: float | None = None
    csat_p_value: float | None = None


def _band(pairs: Sequence[tuple[float, int]], low: float, high: float) -> list[int]:
    return [a for d, a in pairs if low <= d < high]


def _spearman(pairs: Sequence[tuple[float, int]]) -> tuple[float | None, float | None]:
    if len(pairs) < 3:
        return None, None
    d = np.array([x for x, _ in pairs], dtype=float)
    a = np.array([y for _, y in pairs], dtype=float)
    if np.ptp(d) == 0 or np.ptp(a) == 0:
        return None, None
    res = stats.spearmanr(d, a)
    return round(float(res.statistic), 4), float(res.pvalue)


def _mean(values: list[int]) -> float | None:
    return round(float(np.mean(values)), 2) if values else None


def relation(
    pairs: Sequence[tuple[float, int]], csat_pairs: Sequence[tuple[float, int]] = ()
) -> DxsSurveyRelation:
    """Bin (dxs, nps answer 0..10) and (dxs, csat answer 1..5) pairs by DXS and correlate
    each kind. Pure."""
    bins = []
    for low, high in DXS_BINS:
        answers = _band(pairs, low, high)
        csat = _band(csat_pairs, low, high)
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
                mean_nps_answer=_mean(answers),
                nps=nps,
                csat_n=len(csat),
                mean_csat=_mean(csat),
                csat_top2=round(100.0 * sum(a >= 4 for a in csat) / len(csat), 1) if csat else None,
            )
        )
    rho, p = _spearman(pairs)
    csat_rho, csat_p = _spearman(csat_pairs)
    return DxsSurveyRelation(
        available=True,
        pairs=len(pairs),
        spearman_rho=rho,
        p_value=p,
        bins=bins,
        csat_pairs=len(csat_pairs),
        csat_spearman_rho=csat_rho,
        csat_p_value=csat_p,
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
    answers: dict[str, dict[int, list[tuple[datetime, int]]]] = {"nps": {}, "csat": {}}
    rows = session.execute(
        select(response.customer_id, response.completed_at, response.nps, response.csat)
        .where(
            response.customer_id.in_(customers),
            response.completed_at.is_not(None),
            or_(response.nps.is_not(None), response.csat.is_not(None)),
        )
        .order_by(response.completed_at, response.id)
    )
    for customer_id, at, nps, csat in rows:
        for kind, value in (("nps", nps), ("csat", csat)):
            if value is not None:
                answers[kind].setdefault(customer_id, []).append((at, value))
    pairs: dict[str, list[tuple[float, int]]] = {"nps": [], "csat": []}
    for customer_id, started, dxs in sessions:
        for kind, found in pairs.items():
            for at, value in answers[kind].get(customer_id, []):
                if started <= at <= started + window:
                    found.append((float(dxs), int(value)))
                    break
    return relation(pairs["nps"], pairs["csat"])


CSV_HEADER = (
    "dxs_from",
    "dxs_to",
    "nps_n",
    "mean_nps_answer",
    "nps",
    "csat_n",
    "mean_csat",
    "csat_top2_pct",
)


def relation_rows(rel: DxsSurveyRelation) -> list[tuple[Any, ...]]:
    """The bins as CSV rows (see CSV_HEADER)."""
    return [
        (b.low, b.high, b.n, b.mean_nps_answer, b.nps, b.csat_n, b.mean_csat, b.csat_top2)
        for b in rel.bins
    ]
