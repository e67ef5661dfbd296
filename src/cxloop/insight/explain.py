"""Why a metric moved: mix versus rate decomposition, and theme share shifts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from cxloop.insight.scores import compare_proportions


@dataclass(frozen=True)
class SegmentContribution:
    """One segment's part of the change of an aggregate rate."""

    segment: str
    share_before: float
    share_after: float
    rate_before: float
    rate_after: float
    mix: float
    rate: float

    @property
    def total(self) -> float:
        return self.mix + self.rate


@dataclass(frozen=True)
class Decomposition:
    """``after - before == mix + rate`` exactly; segments sorted by size of contribution."""

    before: float
    after: float
    mix: float
    rate: float
    segments: tuple[SegmentContribution, ...]

    @property
    def total(self) -> float:
        return self.after - self.before


def decompose_change(
    segments: Sequence[str],
    weights_before: ArrayLike,
    rates_before: ArrayLike,
    weights_after: ArrayLike,
    rates_after: ArrayLike,
) -> Decomposition:
    """Split the change of a weighted-average rate into mix and rate effects.

    With segment shares ``s_i = w_i / sum(w)`` and the aggregate ``R = sum(s_i r_i)``,
    the symmetric (midpoint, Shapley-like) split is::

        mix_i  = (s1_i - s0_i) * ((r0_i + r1_i) / 2 - (R0 + R1) / 2)
        rate_i = (r1_i - r0_i) * (s0_i + s1_i) / 2

    and ``sum(mix_i) + sum(rate_i) == R1 - R0`` exactly, because
    ``(s1-s0)(r0+r1)/2 + (r1-r0)(s0+s1)/2 == s1 r1 - s0 r0`` and the shares' changes sum
    to zero. Subtracting the mean aggregate leaves the mix total unchanged but makes each
    segment's mix term readable: a growing segment helps only if its rate is above average.

    A segment absent from one period (weight 0) has no rate there; NaN is allowed and
    the other period's rate is used, so its whole effect counts as mix.
    """
    w0, r0, w1, r1 = (
        np.asarray(x, dtype=float)
        for x in (weights_before, rates_before, weights_after, rates_after)
    )
    if not (len(segments) == w0.size == r0.size == w1.size == r1.size):
        raise ValueError("segments, weights and rates must have the same length")
    if np.any(w0 < 0) or np.any(w1 < 0) or w0.sum() <= 0 or w1.sum() <= 0:
        raise ValueError("weights must be non-negative with a positive total in each period")
    r0 = np.where((w0 == 0) & np.isnan(r0), r1, r0)
    r1 = np.where((w1 == 0) & np.isnan(r1), r0, r1)
    # A segment empty in both periods contributes nothing; give it a harmless rate.
    empty = (w0 == 0) & (w1 == 0)
    r0 = np.where(empty, 0.0, r0)
    r1 = np.where(empty, 0.0, r1)
    if np.any(np.isnan(r0)) or np.any(np.isnan(r1)):
        raise ValueError("a segment with weight has no rate")
    s0, s1 = w0 / w0.sum(), w1 / w1.sum()
    agg0, agg1 = float(s0 @ r0), float(s1 @ r1)
    mix = (s1 - s0) * ((r0 + r1) / 2 - (agg0 + agg1) / 2)
    rate = (r1 - r0) * (s0 + s1) / 2
    parts = [
        SegmentContribution(
            str(seg),
            float(s0[i]),
            float(s1[i]),
            float(r0[i]),
            float(r1[i]),
            float(mix[i]),
            float(rate[i]),
        )
        for i, seg in enumerate(segments)
        if not empty[i]
    ]
    parts.sort(key=lambda c: (-abs(c.total), c.segment))
    return Decomposition(agg0, agg1, float(mix.sum()), float(rate.sum()), tuple(parts))


@dataclass(frozen=True)
class ThemeShift:
    """Change of a theme's share of records between two periods."""

    theme: str
    count_before: int
    count_after: int
    share_before: float
    share_after: float
    change: float
    z: float
    p_value: float
    significant: bool


def theme_shifts(
    counts_before: Mapping[str, int],
    total_before: int,
    counts_after: Mapping[str, int],
    total_after: int,
    *,
    alpha: float = 0.05,
    top: int | None = None,
) -> list[ThemeShift]:
    """Themes whose share of records changed most, largest absolute change first.

    A theme's share is records carrying it over all records of the period (a record
    can carry several themes). Each change gets a two-proportion z test.
    """
    if total_before <= 0 or total_after <= 0:
        raise ValueError("each period needs records")
    shifts = []
    for theme in sorted(set(counts_before) | set(counts_after)):
        k0, k1 = int(counts_before.get(theme, 0)), int(counts_after.get(theme, 0))
        if k0 > total_before or k1 > total_after:
            raise ValueError(f"theme {theme!r} counted on more records than exist")
        cmp = compare_proportions(k0, total_before, k1, total_after, alpha=alpha)
        shifts.append(
            ThemeShift(
                theme,
                k0,
                k1,
                k0 / total_before,
                k1 / total_after,
                cmp.difference,
                cmp.statistic,
                cmp.p_value,
                cmp.significant,
            )
        )
    shifts.sort(key=lambda s: (-abs(s.change), s.theme))
    return shifts if top is None else shifts[:top]
