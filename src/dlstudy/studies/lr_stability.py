"""lr_stability: full-batch gradient descent on linear regression converges below 2/lambda_max, diverges above."""

import re
from pathlib import Path

from dlstudy.runs import read_status
from dlstudy.studies.report import Claim, block, ci, derive, figure, settings_table, wall_time
from dlstudy.summarize import Sweep, summarize

METRIC = "train/dist_to_lstsq"


def divergence_step(sweep: Path, job: str) -> float:
    """The step the guard named, from the job's status file; NaN for a job that did not diverge."""
    found = re.search(r"at step (\d+)", read_status(sweep / job).get("message", ""))
    return float(found.group(1)) if found else float("nan")


def claims(s: Sweep) -> list[Claim]:
    below = [r for r in s.rows if float(r["lr_factor"]) < 1]
    above = [r for r in s.rows if float(r["lr_factor"]) > 1]
    near = [g for g in s.groups if float(g.settings["lr_factor"]) == max(float(r["lr_factor"]) for r in below)]
    finished = sum(r["status"] == "finished" for r in below)
    diverged = sum(r["status"] == "diverged" for r in above)
    return [
        Claim("every step size below 2/λ_max converges to the least-squares solution",
              "η < 2/λ_max (Goodfellow et al., *Deep Learning*, §4.3)",
              f"{finished} of {len(below)} runs finished; distance to least squares at "
              f"{near[0].settings['lr_factor']} × the limit: {ci(near[0].summaries[METRIC], '.2g')}",
              finished == len(below) > 0),
        Claim("every step size above it diverges", "the same condition: the boundary is at factor 1",
              f"{diverged} of {len(above)} runs diverged (training loss above 10 × its first value)",
              diverged == len(above) > 0),
    ]


def report(sweep: Path, figures: Path) -> str:
    s = summarize(sweep, METRIC, "min")
    derive(s, "divergence step", lambda job: divergence_step(sweep, job["job"]))
    s.groups.sort(key=lambda g: float(g.settings["lr_factor"]))
    table = settings_table(s, {METRIC: "final distance to least squares", "divergence step": "step of divergence"},
                           test=False)
    return block(claims(s), table, figure(s, "lr_factor", METRIC, figures / "lr_stability.png"), wall_time(sweep))
