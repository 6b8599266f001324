"""universal_approximation: one hidden layer fitting sin(2 pi x); the error falls as the width grows."""

from pathlib import Path

from dlstudy.stats import significant, welch_p
from dlstudy.studies.report import Claim, block, ci, figure, group, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

METRIC = "test/loss"  # mean-squared error
NOISE_FLOOR = 0.05 ** 2  # the variance of the targets' noise: no predictor's expected MSE is lower


def claims(s: Sweep) -> list[Claim]:
    best, narrow = min(s.groups, key=lambda g: g.summaries[METRIC].mean), group(s, width=2)
    b, n = best.summaries[METRIC], narrow.summaries[METRIC]
    p = welch_p(best.values(METRIC), narrow.values(METRIC))
    return [
        Claim("widening the hidden layer lowers the error: the best width's test MSE is ≥ 10 × lower than width 2's "
              "(Welch, 5%)", "Cybenko 1989, Hornik 1991 (existence only: no rate, no training)",
              f"width 2: {ci(n)}; width {best.settings['width']}: {ci(b)}; p = {p:.2g}",
              b.mean * 10 <= n.mean and bool(significant(p))),
        Claim("no width goes below the noise floor σ² = 0.0025", "the irreducible error of the data",
              f"lowest mean test MSE {b.mean:.3g} (width {best.settings['width']})",
              all(g.summaries[METRIC].mean >= NOISE_FLOOR for g in s.groups)),
    ]


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, METRIC, "min")
    s.groups.sort(key=lambda g: int(g.settings["width"]))
    return block(claims(s), settings_table(s, {METRIC: "test MSE"}),
                 figure(s, "width", METRIC, figures / "universal_approximation.png"), wall_time(sweep))
