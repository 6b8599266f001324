"""entropy_kl: what training does to CE = H + KL. The KL part on the training set shrinks towards zero; the
entropy floor H(p) of smoothed targets stays; validation stays above the floor by its own KL."""

import math
from pathlib import Path

from dlstudy.stats import significant, welch_p
from dlstudy.studies.report import Claim, block, ci, derive, first_of, group, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

FLOOR = -(0.91 * math.log(0.91) + 9 * 0.01 * math.log(0.01))  # H(p) for K = 10, eps = 0.1: 0.5003 nats
SHRINK = "train KL, last / first epoch"


def claims(s: Sweep) -> list[Claim]:
    derive(s, SHRINK, lambda job: job["series"]["train/kl"][-1][1] / first_of(job, "train/kl"))
    out = []
    for g in s.groups:
        shrink, kl = g.summaries[SHRINK], g.summaries["train/kl"]
        out.append(Claim(f"{g.settings['loss']}: training drives the training-set KL towards 0 (below a tenth of "
                         "its first-epoch value)", "CE = H + KL, and only KL depends on the net (Cover & Thomas §2.3)",
                         f"train KL at the end {ci(kl)}; last / first epoch {ci(shrink, '.2g')}", shrink.hi < 0.1))
    smooth = group(s, loss="label_smoothing")
    h = smooth.values("train/target_entropy")
    out.append(Claim("the entropy floor of smoothed targets stays: H(p) = 0.5003 nats whatever training does",
                     f"H(p) = −0.91 ln 0.91 − 9 × 0.01 ln 0.01 = {FLOOR:.4f} (K = 10, ε = 0.1)",
                     f"train H(p) at the end {ci(smooth.summaries['train/target_entropy'], '.4g')}; train CE "
                     f"{ci(smooth.summaries['train/cross_entropy'], '.4g')}",
                     all(abs(v - FLOOR) < 1e-4 for v in h) and len(h) > 0))
    for g in s.groups:
        p = welch_p(g.values("val/kl"), g.values("train/kl"))
        out.append(Claim(f"{g.settings['loss']}: validation stays above the floor by a larger KL than training's "
                         "(Welch 5%)", "the generalisation gap, in nats",
                         f"val KL {ci(g.summaries['val/kl'])} vs train KL {ci(g.summaries['train/kl'])}; p = {p:.2g}",
                         g.summaries["val/kl"].mean > g.summaries["train/kl"].mean and bool(significant(p))))
    return out


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, "val/kl", "min")
    found = claims(s)
    table = settings_table(s, {"train/target_entropy": "H(p)", "train/cross_entropy": "train CE",
                               "train/kl": "train KL", SHRINK: SHRINK, "val/cross_entropy": "val CE",
                               "val/kl": "val KL", "test/acc": "test acc"}, test=False)
    return block(found, table, curves(s, figures / "entropy_kl.png"), wall_time(sweep))


def curves(s: Sweep, path: Path) -> str:
    """Train and validation KL per epoch, mean and 95% band over seeds, with H(p) of the smoothed targets."""
    from dlstudy.plots import curves_figure

    path.parent.mkdir(parents=True, exist_ok=True)
    fig = curves_figure(s.jobs, "train/kl", s.settings)
    ax = fig.axes[0]
    for line in ax.get_lines():
        line.set_label("train " + line.get_label())
    val = curves_figure(s.jobs, "val/kl", s.settings).axes[0]
    for line in val.get_lines():
        ax.plot(*line.get_data(), ls="--", lw=1, label="val " + line.get_label())
    ax.set(title="KL(p || q) per epoch: train (solid), validation (dashed); mean over seeds", ylabel="nats",
           yscale="log")
    ax.legend(fontsize=6)
    fig.savefig(path, dpi=100)
    return f"![]({path.parent.name}/{path.name})"
