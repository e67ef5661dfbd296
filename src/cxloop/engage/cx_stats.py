"""CX estimates from sufficient statistics (counts, sums, sums of squares). Pure.

The scorecard reads pre-aggregated rollups, not raw answers, so it needs the estimators of
``cxloop.insight.scores`` in a form that takes counts and moments instead of arrays.
Proportions and NPS go straight to the published estimators; means use the same t
interval and Welch test computed from moments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from cxloop.insight.scores import (
    Comparison,
    Estimate,
    NpsCounts,
    compare_nps,
    compare_proportions,
    nps_from_counts,
    proportion,
)

KINDS = ("nps", "share", "mean")


@dataclass(frozen=True)
class Moments:
    """``n`` observations; ``a``/``b`` category counts; ``s``/``ss`` sum and sum of squares."""

    n: int = 0
    a: int = 0
    b: int = 0
    s: float = 0.0
    ss: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.n + other.n,
            self.a + other.a,
            self.b + other.b,
            self.s + other.s,
            self.ss + other.ss,
        )

    @property
    def mean(self) -> float:
        return self.s / self.n

    @property
    def variance(self) -> float:
        """Sample variance (ddof=1); rounding can leave a tiny negative, clipped to zero."""
        if self.n < 2:
            return math.nan
        return max(0.0, (self.ss - self.s * self.s / self.n) / (self.n - 1))


def total(parts: list[Moments]) -> Moments:
    out = Moments()
    for p in parts:
        out = out + p
    return out


def estimate(kind: str, m: Moments, *, min_n: int, confidence: float = 0.95) -> Estimate | None:
    """The figure for ``m`` with its interval; ``None`` when there are no observations."""
    if m.n <= 0:
        return None
    if kind == "nps":
        counts = NpsCounts(m.a, m.n - m.a - m.b, m.b)
        return nps_from_counts(counts, confidence=confidence, min_n=min_n)
    if kind == "share":
        return proportion(m.a, m.n, confidence=confidence, min_n=min_n)
    if kind == "mean":
        return mean_from_moments(m, confidence=confidence, min_n=min_n)
    raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def mean_from_moments(m: Moments, *, confidence: float = 0.95, min_n: int = 30) -> Estimate:
    """Mean with a Student t interval, as ``insight.scores.mean_t``, from moments."""
    mean = m.mean
    if m.n == 1:
        return Estimate(mean, math.nan, math.nan, 1, "t", 1 < min_n, confidence)
    se = math.sqrt(m.variance / m.n)
    margin = float(stats.t.ppf(0.5 + confidence / 2.0, m.n - 1)) * se
    return Estimate(mean, mean - margin, mean + margin, m.n, "t", m.n < min_n, confidence)


def compare(
    kind: str, before: Moments, after: Moments, *, alpha: float = 0.05
) -> Comparison | None:
    """Test of ``after - before``; ``None`` when a side has too little data to test."""
    if kind == "nps":
        if before.n == 0 or after.n == 0:
            return None
        return compare_nps(
            NpsCounts(before.a, before.n - before.a - before.b, before.b),
            NpsCounts(after.a, after.n - after.a - after.b, after.b),
            alpha=alpha,
        )
    if kind == "share":
        if before.n == 0 or after.n == 0:
            return None
        return compare_proportions(before.a, before.n, after.a, after.n, alpha=alpha)
    if kind == "mean":
        return welch_from_moments(before, after, alpha=alpha)
    raise ValueError(f"unknown kind {kind!r}")


def welch_from_moments(a: Moments, b: Moments, *, alpha: float = 0.05) -> Comparison | None:
    """Welch t test of ``mean(b) - mean(a)``, as ``insight.scores.compare_means``."""
    if a.n < 2 or b.n < 2:
        return None
    va, vb = a.variance / a.n, b.variance / b.n
    se = math.sqrt(va + vb)
    if se == 0.0:
        return None
    diff = b.mean - a.mean
    df = (va + vb) ** 2 / (va**2 / (a.n - 1) + vb**2 / (b.n - 1))
    t = diff / se
    p = float(2.0 * stats.t.sf(abs(t), df))
    margin = float(stats.t.ppf(1 - alpha / 2, df)) * se
    return Comparison(diff, diff - margin, diff + margin, t, p, p < alpha, "welch-t", alpha)


def rate(kind: str, m: Moments) -> float:
    """The point value used when decomposing a change (NPS in points, shares in 0..1)."""
    if kind == "nps":
        return 100.0 * (m.a - m.b) / m.n
    if kind == "share":
        return m.a / m.n
    return m.mean
