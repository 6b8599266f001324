"""Statistics over seeds against hand-computed values and scipy itself."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from dlstudy.stats import compare, describe, group_runs, significant, welch_diff, welch_p


def test_t_interval_of_a_known_sample_by_hand():
    """1, 2, 3, 4, 5: mean 3, s = sqrt(2.5), t(0.975, 4) = 2.776445105..., half width = t s / sqrt(5)."""
    d = describe([1, 2, 3, 4, 5])
    half = 2.7764451051977987 * math.sqrt(2.5) / math.sqrt(5)
    assert (d.n, d.mean, d.std) == (5, 3.0, pytest.approx(math.sqrt(2.5)))
    assert (d.lo, d.hi) == (pytest.approx(3 - half, abs=1e-12), pytest.approx(3 + half, abs=1e-12))
    assert (d.lo, d.hi) == pytest.approx((1.036756838522439, 4.963243161477561))


def test_interval_matches_scipy_for_small_n():
    x = np.random.default_rng(0).normal(0.9, 0.02, 3)
    d = describe(x)
    lo, hi = sps.t.interval(0.95, 2, loc=x.mean(), scale=sps.sem(x))
    assert (d.lo, d.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert d.hi - d.lo > 2 * 1.96 * sps.sem(x), "Student's t is wider than the normal interval at n = 3"


def test_non_finite_values_are_left_out_and_one_value_has_no_interval():
    d = describe([0.5, math.nan, math.inf, "", None])
    assert d.n == 1 and d.mean == 0.5 and math.isnan(d.std) and math.isnan(d.lo)
    assert describe([]).n == 0 and "n=1" in str(d)


def test_welch_is_scipys_unequal_variance_test():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 1, 5), rng.normal(1, 3, 7)
    assert welch_p(a, b) == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
    assert welch_p(a, b) != pytest.approx(sps.ttest_ind(a, b).pvalue), "not Student's pooled test"


def test_welch_edge_cases():
    assert math.isnan(welch_p([1.0], [1.0, 2.0])) and significant(math.nan) is None
    assert welch_p([2.0, 2.0], [2.0, 2.0]) == 1.0 and welch_p([2.0, 2.0], [3.0, 3.0]) == 0.0
    assert significant(0.01) is True and significant(0.2) is False


def test_groups_leave_the_seed_out_and_compare_with_a_reference():
    rows = [{"loss": loss, "seed": s, "acc": acc} for loss, accs in (("ce", [0.90, 0.91, 0.92]), ("sq", [0.80, 0.82, 0.81]))
            for s, acc in enumerate(accs)]
    groups = group_runs(rows, ["loss"], ["acc"])
    assert [(g.settings, g.n) for g in groups] == [({"loss": "ce"}, 3), ({"loss": "sq"}, 3)]
    compare(groups, "acc", groups[0])
    assert groups[1].diff == pytest.approx(-0.1)
    assert groups[1].p == pytest.approx(sps.ttest_ind([0.80, 0.82, 0.81], [0.90, 0.91, 0.92], equal_var=False).pvalue)
    assert math.isnan(groups[0].p)


def test_how_a_summary_reads():
    assert str(describe([])) == "n=0"
    assert str(describe([0.25])) == "0.25 (n=1)"
    assert str(describe([1, 2, 3, 4, 5])) == "3 ± 1.6 [1.037, 4.963] (n=5)"
    assert str(describe([1, 3])) == "2 ± 1.4 [-10.71, 14.71] (n=2)"


def test_what_is_unknown_is_nan_not_none():
    for summary in (describe([]), describe([0.5])):
        unknown = [summary.std, summary.lo, summary.hi] + ([summary.mean] if summary.n == 0 else [])
        assert all(isinstance(v, float) and math.isnan(v) for v in unknown)


def test_welch_needs_two_values_on_each_side():
    assert math.isnan(welch_p([1.0, 2.0], [1.0])) and math.isnan(welch_p([1.0], [1.0, 2.0]))
    assert math.isnan(welch_p([1.0], [2.0, 2.0])), "one value has no spread to compare, even against a constant"
    a, b = [2.0, 2.0, 2.0], [3.0, 4.0, 5.0]  # one side without spread: still Welch's test
    assert welch_p(a, b) == pytest.approx(sps.ttest_ind(a, b, equal_var=False).pvalue)
    assert 0 < welch_p(a, b) < 1


def test_significant_means_strictly_below_alpha():
    assert significant(0.05) is False and significant(0.0499) is True and significant(0.1, alpha=0.1) is False


def test_a_run_without_a_key_groups_under_the_empty_value():
    groups = group_runs([{"loss": "ce", "acc": 0.9}, {"acc": 0.8}], ["loss"], ["acc"])
    assert [g.settings for g in groups] == [{"loss": "ce"}, {"loss": ""}]


def test_welch_difference_interval_is_scipys():
    a, b = [0.871, 0.868, 0.874, 0.872, 0.869], [0.874, 0.876, 0.873, 0.875, 0.872, 0.877]
    d = welch_diff(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert d.mean == pytest.approx(sum(a) / 5 - sum(b) / 6)
    assert (d.lo, d.hi) == (pytest.approx(ref.low), pytest.approx(ref.high))
    assert d.n == 5 and welch_diff(a, b, 0.99).lo < d.lo, "a wider interval at higher confidence"


def test_welch_difference_edge_cases():
    assert math.isnan(welch_diff([1.0], [1.0, 2.0]).lo) and welch_diff([1.0], [1.0, 2.0]).mean == -0.5
    same = welch_diff([2.0, 2.0], [1.0, 1.0])
    assert (same.mean, same.lo, same.hi) == (1.0, 1.0, 1.0), "no spread: the difference is known exactly"
