"""The pieces of a study's block: the interval as the document prints it, and reading a sweep's jobs."""

import math

import pytest

from dlstudy.stats import describe
from dlstudy.studies.report import ci, first_of, last_of, sweep_jobs


def test_an_interval_reads_mean_bounds_and_n_in_the_format_asked():
    x = [1.0, 2.0, 4.0]
    mean, s = 7 / 3, math.sqrt(sum((v - 7 / 3) ** 2 for v in x) / 2)
    half = 4.302652729911275 * s / math.sqrt(3)  # t_{0.975, 2}
    assert ci(describe(x), ".4f") == f"{mean:.4f} [{mean - half:.4f}, {mean + half:.4f}] (n=3)"
    assert ci(describe([1.0, math.nan, math.inf, 3.0])).endswith("(n=2)"), "diverged runs are left out of n"
    assert ci(describe([5.0])) == "5 (n=1)" and ci(describe([])) == "—"
    assert ci(describe([2.0, 2.0])) == "2 [2, 2] (n=2)"


def test_a_jobs_first_and_last_value_of_a_tag():
    job = {"series": {"test/mse": [(0, 0.5), (10, 0.25)]}}
    assert (first_of(job, "test/mse"), last_of(job, "test/mse")) == (0.5, 0.25)
    assert math.isnan(last_of(job, "missing")) and first_of(job, "missing", 0.0) == 0.0


def test_a_folder_without_jobs_is_not_a_sweep(tmp_path):
    with pytest.raises(ValueError, match="is not a sweep folder"):
        sweep_jobs(tmp_path)
