"""loss_comparison's accuracy claim is non-inferiority within a margin: a small but significant gap holds it, a gap
beyond the margin breaks it, and too few seeds to bound the gap do not make it easier to claim."""

from pathlib import Path
from types import SimpleNamespace

import pytest

from dlstudy.stats import describe, welch_p
from dlstudy.studies.loss_comparison import MARGIN, claims


def sweep(ce_acc: list[float], sq_acc: list[float]):
    def grp(loss, accs, ece):
        runs = [{"test/acc": a, "test/ece": ece + 0.001 * i} for i, a in enumerate(accs)]
        return SimpleNamespace(settings={"loss": loss}, runs=runs, values=lambda m: [r[m] for r in runs],
                               summaries={m: describe([r[m] for r in runs]) for m in ("test/acc", "test/ece")})
    return SimpleNamespace(path=Path("sweep"), groups=[grp("cross_entropy", ce_acc, 0.02), grp("square", sq_acc, 0.6)])


CE = [0.874, 0.876, 0.873, 0.875, 0.872]


def test_a_small_significant_gap_is_within_the_margin():
    square = [0.871, 0.869, 0.872, 0.870, 0.868]
    assert welch_p(square, CE) < 0.05, "significantly worse: 'not significantly worse' would call this a no"
    accuracy, calibration = claims(sweep(CE, square))
    assert accuracy.reproduced and f"within {MARGIN * 100:g} point" in accuracy.claim
    assert accuracy.measured.startswith("square − cross_entropy: -0.004 [")
    assert calibration.reproduced


@pytest.mark.parametrize("square, why", [
    ([0.855, 0.857, 0.853, 0.856, 0.854], "two points below"),
    ([0.880, 0.850], "two seeds, spread too wide to bound the gap"),
])
def test_the_claim_fails_beyond_the_margin_or_without_the_evidence(square, why):
    assert not claims(sweep(CE, square))[0].reproduced, why
