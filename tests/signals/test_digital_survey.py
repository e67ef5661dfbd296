"""DXS against NPS: bins and rank correlation, checked by hand."""

from __future__ import annotations

import pytest

from cxloop.signals.digital_survey import relation


def test_bins_hold_mean_answer_and_nps_per_dxs_band() -> None:
    pairs = [(1.0, 2), (1.5, 6), (3.0, 7), (5.0, 8), (7.0, 9), (9.0, 10), (9.5, 9), (10.0, 6)]
    rel = relation(pairs)
    by_low = {b.low: b for b in rel.bins}
    assert rel.pairs == 8
    assert (by_low[0].n, by_low[0].mean_nps_answer, by_low[0].nps) == (2, 4.0, -100.0)
    assert (by_low[2].n, by_low[2].nps) == (1, 0.0)  # a passive
    assert by_low[8].n == 3 and by_low[8].high == 10.0  # 10.0 falls in the top band
    assert by_low[8].nps == pytest.approx(100 * (2 - 1) / 3, abs=0.05)
    # Pearson of ranks 1..8 and (1, 2.5, 4, 5, 6.5, 8, 6.5, 2.5): 22 / sqrt(42 * 41)
    assert rel.spearman_rho == pytest.approx(22 / (42 * 41) ** 0.5, abs=1e-4)


def test_too_few_or_constant_pairs_give_no_correlation() -> None:
    assert relation([]).spearman_rho is None
    assert relation([(1.0, 5), (2.0, 5), (3.0, 5)]).spearman_rho is None
    assert all(b.n == 0 and b.nps is None for b in relation([]).bins)
