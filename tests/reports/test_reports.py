import math

import pytest

from dlstudy.reports.docs import write_block
from dlstudy.reports.seeds import interval, welch_p


def test_interval_is_the_student_t_interval():
    x = [1.0, 2.0, 4.0]
    mean, s = 7 / 3, math.sqrt(sum((v - 7 / 3) ** 2 for v in x) / 2)
    half = 4.302652729911275 * s / math.sqrt(3)  # t_{0.975, 2}
    got = interval(x)
    assert (got.mean, got.lo, got.hi, got.n) == pytest.approx((mean, mean - half, mean + half, 3))
    assert interval([1.0, math.nan, math.inf, 3.0]).n == 2, "diverged runs are left out of n"
    assert interval([5.0]).fmt() == "5 (n=1)" and interval([]).fmt() == "–"
    assert interval([2.0, 2.0]).fmt() == "2 [2, 2] (n=2)"


def test_welch_separates_and_does_not_separate():
    assert welch_p([1.0, 1.1, 0.9], [5.0, 5.2, 4.8]) < 1e-3
    assert welch_p([1.0, 2.0, 3.0], [1.1, 2.1, 2.9]) > 0.5
    assert math.isnan(welch_p([1.0], [2.0, 3.0]))


def test_write_block_replaces_only_between_its_markers(tmp_path):
    doc = tmp_path / "studies.md"
    doc.write_text("intro\n<!-- results:a -->\nold\n<!-- /results -->\nmiddle\n<!-- results:b -->\nkeep\n<!-- /results -->\n")
    write_block(doc, "a", "new 1\nnew 2")
    assert doc.read_text() == ("intro\n<!-- results:a -->\nnew 1\nnew 2\n<!-- /results -->\nmiddle\n"
                               "<!-- results:b -->\nkeep\n<!-- /results -->\n")
    with pytest.raises(ValueError, match="results:c"):
        write_block(doc, "c", "x")
