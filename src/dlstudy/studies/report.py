"""What every study's block of docs/studies.md is made of: claims checked against the measurements, a table of
the settings over seeds, a figure, and the wall time."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from dlstudy.plots import metric_figure
from dlstudy.stats import Group, Summary, describe, significant
from dlstudy.runs import read_status
from dlstudy.summarize import Sweep, job_rows, label

RUN_FILE = "study.json"  # written by the runner into the sweep folder: wall time and machine


@dataclass(frozen=True)
class Claim:
    """A conclusion the document states, the published number or source it rests on, and what was measured."""

    claim: str
    reference: str
    measured: str
    reproduced: bool


def ci(d: Summary, spec: str = ".3g") -> str:
    """`mean [lo, hi] (n)` with the 95% Student-t interval, each number formatted by `spec`; the bare value
    when there is one run."""
    if d.n == 0:
        return "—"
    if d.n == 1 or math.isnan(d.lo):
        return f"{d.mean:{spec}} (n=1)"
    return f"{d.mean:{spec}} [{d.lo:{spec}}, {d.hi:{spec}}] (n={d.n})"


def derive(s: Sweep, name: str, of_job) -> None:
    """Add the metric `name` = of_job(job) (a job: its folder name, params and scalar series) to every run and group."""
    jobs = {j["job"]: j for j in s.jobs}
    for r in s.rows:
        r[name] = of_job(jobs[r["job"]])
    for g in s.groups:
        g.summaries[name] = describe(r[name] for r in g.runs)


def group(s: Sweep, **settings: str) -> Group:
    """The group with these settings (keys as in the sweep, dots allowed via a dict)."""
    hits = [g for g in s.groups if all(g.settings.get(k) == str(v) for k, v in settings.items())]
    if len(hits) != 1:
        raise ValueError(f"{settings} matches {len(hits)} groups of {s.path}")
    return hits[0]


def claims_table(claims: list[Claim]) -> str:
    rows = [f"| {c.claim} | {c.reference} | {c.measured} | {'yes' if c.reproduced else '**no**'} |" for c in claims]
    return "\n".join(["| claim | reference | measured (mean [95% CI], n seeds) | reproduced |",
                      "| --- | --- | --- | --- |", *rows])


def settings_table(s: Sweep, metrics: dict[str, str], test: bool = True) -> str:
    """One row per setting: its runs' statuses, each metric over seeds, and Welch's test against the reference."""
    head = [*s.settings, "runs", *metrics.values()]
    if test:
        head += [f"p vs {label(s.reference)} (Welch)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for g in s.groups:
        statuses = ", ".join(f"{sum(r['status'] == st for r in g.runs)} {st}"
                             for st in dict.fromkeys(r["status"] for r in g.runs))
        cells = [*g.settings.values(), statuses, *(ci(g.summaries[m]) if m in g.summaries else "" for m in metrics)]
        if test:
            sig = significant(g.p)
            cells.append("—" if g is s.reference else
                         f"{g.p:.2g}" + {True: "", False: " (not significant)", None: " (untestable)"}[sig])
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def figure(s: Sweep, param: str, metric: str, path: Path) -> str:
    """The metric against a setting with 95% error bars, saved as `path`; returns the markdown image line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metric_figure(s.groups, param, metric).savefig(path, dpi=100)
    return f"![]({path.parent.name}/{path.name})"


def run_record(sweep: Path) -> dict | None:
    """What the runner wrote beside the sweep (wall time, machine, load), or None for a sweep it did not run."""
    try:
        return json.loads((Path(sweep) / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None


def wall_time(sweep: Path) -> str:
    if (run := run_record(sweep)) is None:
        return "Wall time: not recorded (sweep not run by `make studies`)."
    load = run.get("load")  # the 1-minute load average at the start and the end, on how many cores
    if not load:
        shared = "other work may have shared the machine, so read it as an upper bound"
    else:
        shared = f"load average {load[0]:.1f} at the start and {load[1]:.1f} at the end on {load[2]} cores" + (
            ": other work shared the machine, so the time is an upper bound" if max(load[:2]) > load[2] + 0.5 else "")
    at_once = f", {run['at_once']} at a time" if run.get("at_once", 1) > 1 else ", one at a time" if "at_once" in run else ""
    return (f"Wall time: {run['wall_s']:.0f} s for {run['jobs']} runs{at_once} ({run['machine']}; {shared}). "
            f"Run on {run['date']}.")


def block(claims: list[Claim], *parts: str) -> str:
    return "\n\n".join([claims_table(claims), *parts])


def sweep_jobs(sweep: Path) -> list[dict]:
    """The sweep's jobs as dlstudy-summarize reads them: params, status and scalar series."""
    jobs = job_rows(sweep)
    if not jobs:
        raise ValueError(f"{sweep} is not a sweep folder (no job folders with .hydra/ inside)")
    return jobs


def wall_seconds(sweep: Path) -> float:
    """The sweep's wall time: as `make studies` measured it around the command where it ran the sweep, else
    its span from the job folders' files."""
    run = run_record(sweep) or {}
    return float(run["wall_s"]) if "wall_s" in run else span_seconds(sweep)


def span_seconds(sweep: Path) -> float:
    """From the first job's composed config to the last final status written."""
    starts = [p.stat().st_mtime for p in sweep.glob("*/.hydra/config.yaml")]
    ends = [(p.parent / "status.json").stat().st_mtime for p in sweep.glob("*/.hydra")
            if (p.parent / "status.json").exists() and read_status(p.parent)["status"] != "running"]
    return max(ends) - min(starts) if starts and ends else float("nan")


def last_of(job: dict, tag: str, default: float = float("nan")) -> float:
    points = job["series"].get(tag)
    return points[-1][1] if points else default


def first_of(job: dict, tag: str, default: float = float("nan")) -> float:
    points = job["series"].get(tag)
    return points[0][1] if points else default
