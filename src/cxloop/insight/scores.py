"""CX scores with confidence intervals, and tests of a change between two groups.

Units: NPS is in points (-100..100); shares and rates (CSAT top-2-box, complaint rate)
are proportions in 0..1; means (CES, stars, sentiment) are on their own scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

DEFAULT_MIN_N = 30
"""Below this many responses an estimate is flagged ``small_sample``."""

# MeasuringU's adjusted-Wald NPS interval adds 3 pseudo-responses: 3/4 promoter,
# 3/4 detractor and (implicitly) 3/2 passive.
_NPS_ADJ_N = 3.0
_NPS_ADJ_EACH = 0.75


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval."""

    value: float
    low: float
    high: float
    n: int
    method: str
    small_sample: bool
    confidence: float = 0.95


@dataclass(frozen=True)
class Comparison:
    """Difference ``after - before`` (or ``b - a``) with its interval and a test."""

    difference: float
    low: float
    high: float
    statistic: float
    p_value: float
    significant: bool
    method: str
    alpha: float = 0.05


@dataclass(frozen=True)
class NpsCounts:
    """Promoters (9-10), passives (7-8) and detractors (0-6)."""

    promoters: int
    passives: int
    detractors: int

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @classmethod
    def from_scores(cls, scores: ArrayLike) -> NpsCounts:
        """Count categories of 0-10 likelihood-to-recommend answers."""
        arr = _as_1d(scores)
        if arr.size and (np.any(arr < 0) or np.any(arr > 10) or np.any(arr != np.round(arr))):
            raise ValueError("NPS scores must be whole numbers from 0 to 10")
        return cls(
            promoters=int(np.count_nonzero(arr >= 9)),
            passives=int(np.count_nonzero((arr >= 7) & (arr <= 8))),
            detractors=int(np.count_nonzero(arr <= 6)),
        )

    @property
    def nps(self) -> float:
        """Net Promoter Score in points."""
        if self.n == 0:
            raise ValueError("no responses")
        return 100.0 * (self.promoters - self.detractors) / self.n


def _as_1d(values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if np.any(np.isnan(arr)):
        raise ValueError("values contain NaN; drop missing answers first")
    return arr


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be between 0 and 1")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def nps_from_counts(
    counts: NpsCounts, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """NPS with the adjusted-Wald interval (Sauro & Lewis, MeasuringU; Rocks 2016).

    Add 3 to n and 3/4 to both promoters and detractors, then use the variance of a
    difference of two multinomial proportions on the adjusted figures:
    ``nps_adj ± z * sqrt((p+ + p- - (p+ - p-)^2) / n_adj)``. The reported ``value``
    is the unadjusted NPS; only the interval uses the adjusted proportions. The
    published constants (3 and 3/4) are kept at every confidence level; only z changes.
    """
    n = counts.n
    if n == 0:
        raise ValueError("no responses")
    n_adj = n + _NPS_ADJ_N
    p_pro = (counts.promoters + _NPS_ADJ_EACH) / n_adj
    p_det = (counts.detractors + _NPS_ADJ_EACH) / n_adj
    centre = p_pro - p_det
    se = math.sqrt((p_pro + p_det - centre**2) / n_adj)
    margin = _z(confidence) * se
    return Estimate(
        value=counts.nps,
        low=max(-100.0, 100.0 * (centre - margin)),
        high=min(100.0, 100.0 * (centre + margin)),
        n=n,
        method="adjusted-wald",
        small_sample=n < min_n,
        confidence=confidence,
    )


def nps(scores: ArrayLike, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N) -> Estimate:
    """NPS in points from 0-10 answers, with the adjusted-Wald interval."""
    return nps_from_counts(NpsCounts.from_scores(scores), confidence=confidence, min_n=min_n)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998)."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= successes <= n:
        raise ValueError("successes must be between 0 and n")
    z = _z(confidence)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def proportion(
    successes: int, n: int, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """A share ``successes / n`` with the Wilson score interval."""
    low, high = wilson_interval(successes, n, confidence)
    return Estimate(successes / n, low, high, n, "wilson", n < min_n, confidence)


def csat_top2(
    scores: ArrayLike, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Share of 4s and 5s among 1-5 satisfaction answers, with the Wilson interval."""
    arr = _checked(scores, 1, 5, "CSAT")
    return proportion(int(np.count_nonzero(arr >= 4)), arr.size, confidence=confidence, min_n=min_n)


def complaint_rate(
    complaints: int, contacts: int, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Complaints per contact, with the Wilson interval."""
    return proportion(complaints, contacts, confidence=confidence, min_n=min_n)


def mean_t(
    values: ArrayLike,
    *,
    confidence: float = 0.95,
    min_n: int = DEFAULT_MIN_N,
    method: str = "t",
) -> Estimate:
    """Sample mean with a Student t interval; the bounds are NaN for a single value."""
    arr = _as_1d(values)
    n = arr.size
    if n == 0:
        raise ValueError("no values")
    mean = float(arr.mean())
    if n == 1:
        low = high = math.nan
    else:
        se = float(arr.std(ddof=1)) / math.sqrt(n)
        margin = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
        low, high = mean - margin, mean + margin
    return Estimate(mean, low, high, n, method, n < min_n, confidence)


def _checked(values: ArrayLike, lo: float, hi: float, what: str) -> np.ndarray:
    arr = _as_1d(values)
    if arr.size == 0:
        raise ValueError("no values")
    if np.any(arr < lo) or np.any(arr > hi):
        raise ValueError(f"{what} values must lie in {lo:g}..{hi:g}")
    return arr


def ces_mean(
    scores: ArrayLike, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Customer Effort Score: mean of 1-7 answers with a t interval."""
    arr = _checked(scores, 1, 7, "CES")
    return mean_t(arr, confidence=confidence, min_n=min_n, method="t")


def star_average(
    stars: ArrayLike, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Average review rating (1-5 stars) with a t interval."""
    arr = _checked(stars, 1, 5, "star")
    return mean_t(arr, confidence=confidence, min_n=min_n, method="t")


def sentiment_index(
    scores: ArrayLike, *, confidence: float = 0.95, min_n: int = DEFAULT_MIN_N
) -> Estimate:
    """Mean sentiment in -1..1 with a t interval clipped to -1..1."""
    est = mean_t(_checked(scores, -1, 1, "sentiment"), confidence=confidence, min_n=min_n)
    if math.isnan(est.low):
        return est
    return Estimate(
        est.value, max(-1.0, est.low), min(1.0, est.high), est.n, "t", est.small_sample, confidence
    )


def _two_sided(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))


def _nps_var(c: NpsCounts) -> float:
    p, d = c.promoters / c.n, c.detractors / c.n
    return (p + d - (p - d) ** 2) / c.n


def compare_nps(before: NpsCounts, after: NpsCounts, *, alpha: float = 0.05) -> Comparison:
    """Two-sample z test on NPS; variance of each NPS from the multinomial.

    ``var(NPS) = (p+ + p- - (p+ - p-)^2) / n``; the difference is in points.
    """
    if before.n == 0 or after.n == 0:
        raise ValueError("both groups need responses")
    diff = (after.nps - before.nps) / 100.0
    se = math.sqrt(_nps_var(before) + _nps_var(after))
    return _z_comparison(diff, se, alpha, "nps-z", scale=100.0)


def compare_proportions(
    successes_a: int, n_a: int, successes_b: int, n_b: int, *, alpha: float = 0.05
) -> Comparison:
    """Two-proportion z test of ``b - a``.

    The test uses the pooled standard error (the null is equal proportions); the
    interval uses the unpooled (Wald) one, as Newcombe (1998) method 1.
    """
    if n_a <= 0 or n_b <= 0:
        raise ValueError("both groups need observations")
    pa, pb = successes_a / n_a, successes_b / n_b
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    margin = _z(1 - alpha) * se
    diff = pb - pa
    if se_pooled == 0.0:
        # Both groups all-or-nothing alike: no evidence of a difference.
        z, p = 0.0, 1.0
    else:
        z = diff / se_pooled
        p = _two_sided(z)
    method = "two-proportion-z"
    return Comparison(diff, diff - margin, diff + margin, z, p, p < alpha, method, alpha)


def compare_means(a: ArrayLike, b: ArrayLike, *, alpha: float = 0.05) -> Comparison:
    """Welch t test of ``mean(b) - mean(a)`` with the Welch-Satterthwaite interval."""
    xa, xb = _as_1d(a), _as_1d(b)
    if xa.size < 2 or xb.size < 2:
        raise ValueError("each group needs at least two values")
    va, vb = xa.var(ddof=1) / xa.size, xb.var(ddof=1) / xb.size
    se = math.sqrt(va + vb)
    diff = float(xb.mean() - xa.mean())
    if se == 0.0:
        raise ValueError("both groups have zero variance")
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    t = diff / se
    p = float(2.0 * stats.t.sf(abs(t), df))
    margin = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return Comparison(diff, diff - margin, diff + margin, t, p, p < alpha, "welch-t", alpha)


def _z_comparison(diff: float, se: float, alpha: float, method: str, scale: float) -> Comparison:
    margin = _z(1 - alpha) * se
    if se == 0.0:
        z, p = 0.0, 1.0
    else:
        z = diff / se
        p = _two_sided(z)
    return Comparison(
        diff * scale,
        (diff - margin) * scale,
        (diff + margin) * scale,
        z,
        p,
        p < alpha,
        method,
        alpha,
    )


__all__ = (
    "DEFAULT_MIN_N",
    "Comparison",
    "Estimate",
    "NpsCounts",
    "ces_mean",
    "compare_means",
    "compare_nps",
    "compare_proportions",
    "complaint_rate",
    "csat_top2",
    "mean_t",
    "nps",
    "nps_from_counts",
    "proportion",
    "sentiment_index",
    "star_average",
    "wilson_interval",
)
