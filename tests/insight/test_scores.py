import math

import numpy as np
import pytest
from scipy import stats

from cxloop.insight.scores import (
    NpsCounts,
    ces_mean,
    compare_means,
    compare_nps,
    compare_proportions,
    complaint_rate,
    csat_top2,
    mean_t,
    nps,
    nps_from_counts,
    proportion,
    sentiment_index,
    star_average,
    wilson_interval,
)


def test_nps_counts_categories_from_scores():
    counts = NpsCounts.from_scores([0, 6, 7, 8, 9, 10, 10])
    assert counts == NpsCounts(promoters=3, passives=2, detractors=2)
    assert counts.nps == pytest.approx(100 * 1 / 7)


def test_nps_rejects_out_of_range_scores():
    with pytest.raises(ValueError):
        nps([3, 11])
    with pytest.raises(ValueError):
        nps([7.5])


def test_nps_adjusted_wald_hand_computed():
    # MeasuringU adjusted-Wald: add 3 to n and 3/4 to promoters and detractors.
    # 15 promoters, 13 passives, 8 detractors (n = 36), by hand:
    #   n_adj = 39, p+ = 15.75/39 = 0.403846, p- = 8.75/39 = 0.224359
    #   nps_adj = 0.179487, var = 0.628205 - 0.179487^2 = 0.595989
    #   se = sqrt(0.595989/39) = 0.123620, margin = 1.959964 * se = 0.242291
    est = nps_from_counts(NpsCounts(15, 13, 8))
    assert est.value == pytest.approx(100 * 7 / 36)
    assert est.low == pytest.approx(-6.280, abs=0.005)
    assert est.high == pytest.approx(42.178, abs=0.005)
    assert est.n == 36
    assert est.method == "adjusted-wald"
    assert not est.small_sample


def test_nps_from_scores_matches_counts_and_is_clipped():
    scores = [10] * 5
    est = nps(scores)
    assert est.value == 100.0
    assert est.high == 100.0  # adjusted centre + margin exceeds 1, clipped
    assert est.low < 100.0
    assert est.small_sample  # 5 < 30


def test_small_sample_threshold_is_configurable():
    scores = [9] * 10 + [3] * 10
    assert nps(scores).small_sample
    assert not nps(scores, min_n=20).small_sample
    assert nps(scores, min_n=21).small_sample


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998(successes, n, low, high):
    lo, hi = wilson_interval(successes, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_csat_top2_counts_fours_and_fives():
    scores = [5, 4, 4, 3, 2, 1, 5, 4]  # 5 of 8 are 4 or 5
    est = csat_top2(scores)
    assert est.value == pytest.approx(5 / 8)
    assert (est.low, est.high) == pytest.approx(wilson_interval(5, 8))
    assert est.method == "wilson"
    with pytest.raises(ValueError):
        csat_top2([0, 5])


def test_complaint_rate_is_wilson_on_contacts():
    est = complaint_rate(81, 263)
    assert est.value == pytest.approx(81 / 263)
    assert est.low == pytest.approx(0.2553, abs=5e-5)
    assert proportion(81, 263) == est


def test_t_interval_hand_computed():
    # mean 3, sd sqrt(2.5), se 0.707107, t(0.975, df=4) = 2.776445 (t table: 2.776)
    est = mean_t([1, 2, 3, 4, 5])
    assert est.value == 3.0
    assert est.low == pytest.approx(3 - 2.776445 * 0.707107, abs=1e-5)
    assert est.high == pytest.approx(3 + 2.776445 * 0.707107, abs=1e-5)


def test_t_interval_single_value_has_no_bounds():
    est = mean_t([4.0])
    assert est.value == 4.0
    assert math.isnan(est.low) and math.isnan(est.high)


def test_ces_star_and_sentiment_check_their_scales():
    assert ces_mean([1, 7, 4]).value == 4.0
    with pytest.raises(ValueError):
        ces_mean([8])
    assert star_average([5, 4, 3]).value == 4.0
    with pytest.raises(ValueError):
        star_average([0])
    with pytest.raises(ValueError):
        sentiment_index([1.5])


def test_sentiment_interval_is_clipped_to_range():
    est = sentiment_index([1.0, 1.0, 0.2])
    assert est.high == 1.0
    assert -1.0 <= est.low < est.value


def test_compare_nps_hand_computed():
    # before 40/30/30 (NPS 10), after 50/30/20 (NPS 30), n = 100 each.
    # var_b = (0.4 + 0.3 - 0.1^2)/100 = 0.0069, var_a = (0.5 + 0.2 - 0.3^2)/100 = 0.0061
    # se = sqrt(0.013) = 0.1140175, z = 0.2/se = 1.754116, p = 0.07942
    cmp = compare_nps(NpsCounts(40, 30, 30), NpsCounts(50, 30, 20))
    assert cmp.difference == pytest.approx(20.0)
    assert cmp.statistic == pytest.approx(1.754116, abs=1e-6)
    assert cmp.p_value == pytest.approx(0.07942, abs=5e-5)
    assert cmp.low == pytest.approx(20 - 1.959964 * 11.40175, abs=1e-3)
    assert cmp.high == pytest.approx(20 + 1.959964 * 11.40175, abs=1e-3)
    assert not cmp.significant
    assert compare_nps(NpsCounts(40, 30, 30), NpsCounts(50, 30, 20), alpha=0.10).significant


def test_compare_proportions_matches_newcombe_example():
    # Newcombe (1998) Table II: 56/70 vs 48/80, difference 0.2000,
    # method 1 (Wald) interval 0.0575 to 0.3425.
    cmp = compare_proportions(48, 80, 56, 70)
    assert cmp.difference == pytest.approx(0.2)
    assert cmp.low == pytest.approx(0.0575, abs=5e-5)
    assert cmp.high == pytest.approx(0.3425, abs=5e-5)
    # Pooled z by hand: p = 104/150, se = sqrt(p(1-p)(1/80 + 1/70)) = 0.075467
    assert cmp.statistic == pytest.approx(0.2 / 0.075467, abs=1e-3)
    assert cmp.significant


def test_compare_proportions_identical_extremes_are_not_significant():
    cmp = compare_proportions(10, 10, 20, 20)
    assert cmp.p_value == 1.0
    assert not cmp.significant


def test_welch_t_hand_computed_and_agrees_with_scipy():
    a = [1.0, 2.0, 3.0, 4.0, 5.5]
    b = [2.0, 4.0, 6.0, 8.0, 9.0, 11.0]
    # By hand: var_a/n = 3.05/5 = 0.61, var_b/n = 11.066667/6 = 1.844444,
    # se = sqrt(2.454444) = 1.566667, diff = 6.666667 - 3.1 = 3.566667, t = 2.276596
    se = math.sqrt(np.var(a, ddof=1) / 5 + np.var(b, ddof=1) / 6)
    cmp = compare_means(a, b)
    assert cmp.difference == pytest.approx(20 / 3 - 3.1)
    assert cmp.statistic == pytest.approx((20 / 3 - 3.1) / se)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert cmp.p_value == pytest.approx(float(ref.pvalue))
    assert cmp.statistic == pytest.approx(2.276596, abs=1e-6)
    assert not cmp.significant
    assert cmp.low < 0 < cmp.high


def test_welch_detects_clear_shift():
    rng = np.random.default_rng(7)
    a = rng.normal(4.0, 1.0, 200)
    b = rng.normal(5.0, 1.0, 200)
    cmp = compare_means(a, b)
    assert cmp.significant
    assert cmp.low < cmp.difference < cmp.high
    assert cmp.low > 0
