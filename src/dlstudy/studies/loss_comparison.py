"""loss_comparison: is cross-entropy the best loss for classification? Accuracy and calibration over seeds."""

from pathlib import Path

from dlstudy.stats import significant, welch_diff, welch_p
from dlstudy.studies.report import Claim, block, ci, figure, group, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

METRIC = "test/acc"
MARGIN = 0.01  # "as accurate": square's test accuracy at most 1 point below cross-entropy's (non-inferiority)


def claims(s: Sweep) -> list[Claim]:
    ce, sq = group(s, loss="cross_entropy"), group(s, loss="square")
    gap = welch_diff(sq.values(METRIC), ce.values(METRIC))
    p_ece = welch_p(sq.values("test/ece"), ce.values("test/ece"))
    return [
        Claim(f"the square loss is as accurate as cross-entropy, within {MARGIN * 100:g} point of accuracy (the 95% Welch interval of "
              f"square − cross-entropy lies above −{MARGIN:g})",
              "Hui & Belkin, ICLR 2021: square loss matches or beats cross-entropy on most tasks",
              f"square − cross_entropy: {gap.mean:+.2g} [{gap.lo:+.2g}, {gap.hi:+.2g}]; square: "
              f"{ci(sq.summaries[METRIC])}; cross_entropy: {ci(ce.summaries[METRIC])}",
              gap.lo > -MARGIN),
        Claim("but its outputs are not probabilities: cross-entropy is better calibrated (lower ECE through a "
              "softmax, Welch 5%)", "Guo et al. 2017 (ECE); Hui & Belkin do not measure calibration",
              f"ECE square: {ci(sq.summaries['test/ece'])}; cross_entropy: {ci(ce.summaries['test/ece'])}; "
              f"p = {p_ece:.2g}",
              ce.summaries["test/ece"].mean < sq.summaries["test/ece"].mean and bool(significant(p_ece))),
    ]


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, METRIC, "max", reference={"loss": "cross_entropy"})
    data = "Fashion-MNIST" if "fashion" in (sweep / s.rows[0]["job"] / ".hydra" / "overrides.yaml").read_text() \
        else "digits"
    table = settings_table(s, {METRIC: "test acc", "test/ece": "test ECE"})
    return block(claims(s), f"Data: {data}.", table, figure(s, "loss", METRIC, figures / "loss_comparison.png"),
                 wall_time(sweep))
