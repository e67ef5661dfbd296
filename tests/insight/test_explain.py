import numpy as np
import pytest

from cxloop.insight.explain import decompose_change, theme_shifts


def test_pure_mix_shift_has_no_rate_effect():
    # Rates fixed at 0.8 and 0.4; the share of the good segment grows from 50 % to 80 %.
    d = decompose_change(["good", "poor"], [50, 50], [0.8, 0.4], [80, 20], [0.8, 0.4])
    assert d.before == pytest.approx(0.6)
    assert d.after == pytest.approx(0.72)
    assert d.rate == pytest.approx(0.0, abs=1e-15)
    assert d.mix == pytest.approx(0.12)


def test_pure_rate_change_has_no_mix_effect():
    d = decompose_change(["a", "b"], [30, 70], [0.5, 0.2], [300, 700], [0.6, 0.1])
    assert d.mix == pytest.approx(0.0, abs=1e-15)
    assert d.rate == pytest.approx(d.after - d.before)
    by_name = {c.segment: c for c in d.segments}
    assert by_name["a"].rate == pytest.approx(0.3 * 0.1)
    assert by_name["b"].rate == pytest.approx(0.7 * -0.1)


def test_mixed_change_hand_computed_and_sorted():
    # s0 = (.5, .5), s1 = (.75, .25); R0 = 0.4, R1 = 0.525, mean aggregate 0.4625
    # A: rate = 0.1 * 0.625 = 0.0625, mix = 0.25 * (0.55 - 0.4625) = 0.021875
    # B: rate = 0, mix = -0.25 * (0.3 - 0.4625) = 0.040625
    d = decompose_change(["B", "A"], [100, 100], [0.3, 0.5], [100, 300], [0.3, 0.6])
    assert d.total == pytest.approx(0.125)
    assert [c.segment for c in d.segments] == ["A", "B"]
    a, b = d.segments
    assert a.rate == pytest.approx(0.0625)
    assert a.mix == pytest.approx(0.021875)
    assert b.rate == pytest.approx(0.0)
    assert b.mix == pytest.approx(0.040625)
    assert d.mix == pytest.approx(0.0625)
    assert d.rate == pytest.approx(0.0625)


def test_new_segment_counts_as_mix():
    d = decompose_change(["old", "new"], [100, 0], [0.5, float("nan")], [50, 50], [0.5, 0.9])
    assert d.after - d.before == pytest.approx(0.2)
    assert d.rate == pytest.approx(0.0)
    assert d.mix == pytest.approx(0.2)


def test_mix_plus_rate_equals_total_exactly_on_random_data():
    rng = np.random.default_rng(3)
    names = [f"s{i}" for i in range(40)]
    w0, w1 = rng.integers(1, 500, 40), rng.integers(1, 500, 40)
    r0, r1 = rng.uniform(-1, 1, 40), rng.uniform(-1, 1, 40)
    d = decompose_change(names, w0, r0, w1, r1)
    assert d.mix + d.rate == pytest.approx(d.after - d.before, abs=1e-12)
    assert sum(c.total for c in d.segments) == pytest.approx(d.total, abs=1e-12)
    totals = [abs(c.total) for c in d.segments]
    assert totals == sorted(totals, reverse=True)


def test_decompose_rejects_bad_input():
    with pytest.raises(ValueError):
        decompose_change(["a"], [1, 2], [0.1, 0.2], [1, 2], [0.1, 0.2])
    with pytest.raises(ValueError):
        decompose_change(["a", "b"], [1, 2], [0.1, float("nan")], [1, 2], [0.1, 0.2])


def test_theme_shifts_sorted_with_significance():
    before = {"wait time": 10, "price": 20, "staff": 5}
    after = {"wait time": 40, "price": 22}
    shifts = theme_shifts(before, 200, after, 200)
    assert [s.theme for s in shifts] == ["wait time", "staff", "price"]
    wait = shifts[0]
    assert wait.share_before == pytest.approx(0.05)
    assert wait.share_after == pytest.approx(0.20)
    assert wait.change == pytest.approx(0.15)
    # pooled p = 50/400, se = sqrt(0.125 * 0.875 * 2/200) = 0.0330719
    assert wait.z == pytest.approx(0.15 / 0.0330719, abs=1e-4)
    assert wait.significant
    price = shifts[2]
    assert not price.significant
    assert shifts[1].count_after == 0


def test_theme_shifts_top_and_validation():
    shifts = theme_shifts({"a": 1, "b": 50}, 100, {"a": 2, "b": 10}, 100, top=1)
    assert [s.theme for s in shifts] == ["b"]
    assert shifts[0].change == pytest.approx(-0.4)
    with pytest.raises(ValueError):
        theme_shifts({"a": 5}, 4, {"a": 1}, 4)
