"""init_depth: a 30-layer plain ReLU MLP trains from He (kaiming) init and stalls from the others."""

import math
import re
from pathlib import Path

from dlstudy.stats import significant, welch_p
from dlstudy.studies.report import Claim, block, ci, derive, figure, group, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

METRIC = "test/acc"
CHANCE = 0.1  # ten digits
RATIO = "act std ratio"  # last hidden layer's activation std over the first's, at initialisation (step 0)


def std_ratio(job: dict) -> float:
    """diag/<layer>/act_std at step 0, last ReLU layer over first; NaN when the first is 0 (zeros init)."""
    stds = sorted((int(m.group(1)), points[0][1]) for tag, points in job["series"].items()
                  if (m := re.fullmatch(r"diag/net\.layers\.(\d+)/act_std", tag)) and points and points[0][0] == 0)
    if len(stds) < 2 or stds[0][1] == 0:
        return math.nan
    return stds[-1][1] / stds[0][1]


def claims(s: Sweep) -> list[Claim]:
    he, xavier, zeros = (group(s, init=name) for name in ("kaiming_normal", "xavier_normal", "zeros"))
    p = welch_p(he.values(METRIC), xavier.values(METRIC))
    r_he, r_xavier = he.summaries[RATIO], xavier.summaries[RATIO]
    return [
        Claim("He init trains a 30-layer ReLU net; Xavier init stalls (accuracy near chance)",
              "He et al. 2015, Fig. 3: at depth 30 Xavier does not converge, theirs does",
              f"kaiming_normal: {ci(he.summaries[METRIC])}; xavier_normal: {ci(xavier.summaries[METRIC])}; "
              f"p = {p:.2g}",
              he.summaries[METRIC].mean >= 0.8 and xavier.summaries[METRIC].mean < 2 * CHANCE
              and bool(significant(p))),
        Claim("why: with He init the activation scale survives 29 ReLU layers; with Xavier it shrinks by "
              "about 2 per layer pair (variance halved at each ReLU)",
              "He et al. 2015, §2.2: Var gains 2/fan_in × fan_in/2 = 1 per layer; Xavier's 1/fan_in loses 1/2",
              f"std last/first hidden layer at init: kaiming_normal {ci(r_he, '.2g')}; xavier_normal {ci(r_xavier, '.2g')}",
              0.5 <= r_he.mean <= 2 and r_xavier.mean < 1e-3),
        Claim("zeros never break the symmetry: chance accuracy", "Goodfellow et al., *Deep Learning*, §8.4",
              f"zeros: {ci(zeros.summaries[METRIC])}", zeros.summaries[METRIC].mean < 2 * CHANCE),
    ]


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, METRIC, "max")
    derive(s, RATIO, std_ratio)
    table = settings_table(s, {METRIC: "test acc", RATIO: "activation std, last / first hidden layer, at init"})
    return block(claims(s), table, figure(s, "init", METRIC, figures / "init_depth.png"), wall_time(sweep))
