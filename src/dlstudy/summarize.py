"""dlstudy-summarize <sweep folder>: per setting, each metric over seeds (n, mean, std, 95% Student-t interval),
Welch's test against the best setting (or --reference), and one row per job; written as summary.md, groups.csv
and summary.csv, with PNG plots (error bars over seeds), into the sweep folder. Works on a sweep that is still
running or partly failed."""

import argparse
import csv
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlstudy.plots import curves_figure, metric_figure
from dlstudy.runs import read_status
from dlstudy.stats import Group, compare, group_runs, significant

HIGHER_IS_BETTER = ("acc", "r2")
SECONDARY = ("mae", "mse", "r2", "entropy")  # shown for test/ only, to keep the table readable


def job_rows(sweep: Path) -> list[dict]:
    """Each job folder's overrides, status and scalar series."""
    jobs = []
    for hydra_dir in sorted(sweep.glob("*/.hydra"), key=lambda p: (len(p.parent.name.split("_")[0]), p.parent.name)):
        job = hydra_dir.parent
        overrides = yaml.safe_load((hydra_dir / "overrides.yaml").read_text()) or []
        params = dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
        ea = EventAccumulator(str(job), size_guidance={"scalars": 0})
        ea.Reload()
        series = {t: [(e.step, e.value) for e in ea.Scalars(t)] for t in ea.Tags()["scalars"]}
        jobs.append({"job": job.name, "params": params, "status": read_status(job)["status"], "series": series})
    return jobs


def best_of(tag: str, values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan
    return max(finite) if tag.rsplit("/", 1)[-1] in HIGHER_IS_BETTER else min(finite)


def table(jobs: list[dict], reach: dict[str, float]) -> tuple[list[str], list[dict]]:
    swept = sorted({k for j in jobs for k in j["params"]}, key=lambda k: k)
    swept = [k for k in swept if len({j["params"].get(k) for j in jobs}) > 1] or swept
    rows = []
    for j in jobs:
        row = {"job": j["job"], **{k: j["params"].get(k, "") for k in swept}, "status": j["status"]}
        for tag, points in sorted(j["series"].items()):
            stage, name = tag.split("/", 1) if "/" in tag else ("", tag)
            if stage not in ("train", "val", "test") or tag == "train/loss" or (stage != "test" and name in SECONDARY):
                continue
            row[tag] = points[-1][1]
            if stage == "val" and name in ("loss", "acc"):
                row[f"best {tag}"] = best_of(tag, [v for _, v in points])
        for tag, target in reach.items():
            hit = [s for s, v in j["series"].get(tag, []) if v >= target]
            row[f"steps to {tag}>={target}"] = hit[0] if hit else ""
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in r))
    return swept, [{c: r.get(c, "") for c in columns} for r in rows]


def fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@dataclass
class Sweep:
    """A summarised sweep: its jobs, one row per job, and the groups of runs over seeds."""

    path: Path
    jobs: list[dict]
    swept: list[str]  # the settings that vary between jobs, seed included
    rows: list[dict]
    settings: list[str]  # swept minus the seed: what a group is
    groups: list[Group]  # best first by `metric`
    metric: str
    mode: str
    reference: Group | None

    @property
    def seeds(self) -> bool:
        return any(g.n > 1 for g in self.groups)


def metrics_of(rows: list[dict], skip: set[str]) -> list[str]:
    return [c for c in rows[0] if c not in skip and any(isinstance(r[c], (int, float)) for r in rows)]


def find_group(groups: list[Group], wanted: dict[str, str]) -> Group:
    """The one group whose settings include every `key=value` asked for; ValueError (one line) otherwise."""
    hits = [g for g in groups if all(g.settings.get(k) == v for k, v in wanted.items())]
    if len(hits) != 1:
        names = "; ".join(label(g) for g in groups)
        raise ValueError(f"--reference {','.join(f'{k}={v}' for k, v in wanted.items())} matches {len(hits)} "
                         f"groups, not one; the groups are: {names}")
    return hits[0]


def label(g: Group) -> str:
    return ",".join(f"{k}={v}" for k, v in g.settings.items()) or "all runs"


def summarize(sweep: Path, metric: str | None = None, mode: str | None = None, reach: dict | None = None,
              reference: dict[str, str] | None = None) -> Sweep:
    """Read a sweep folder and group its jobs over seeds; groups are compared with the best one, or `reference`."""
    jobs = job_rows(sweep)
    swept, rows = table(jobs, reach or {})
    metric = metric or next((m for m in ("test/acc", "test/loss") if any(m in r for r in rows)), "status")
    mode = mode or ("max" if metric.rsplit("/", 1)[-1] in HIGHER_IS_BETTER else "min")
    sign = -1 if mode == "max" else 1
    rows.sort(key=lambda r: (not isinstance(r.get(metric), float) or not math.isfinite(r[metric]),
                             sign * (r[metric] if isinstance(r.get(metric), float) else 0)))
    settings = [k for k in swept if k != "seed"]
    groups = group_runs(rows, settings, metrics_of(rows, {"job", "status", *swept}))
    ref = None
    if metric in groups[0].summaries:
        groups.sort(key=lambda g: (math.isnan(g.summaries[metric].mean), sign * g.summaries[metric].mean))
        ref = find_group(groups, reference) if reference else groups[0]
        compare(groups, metric, ref)
    return Sweep(sweep, jobs, swept, rows, settings, groups, metric, mode, ref)


def statuses(g: Group) -> str:
    return ", ".join(f"{n} {s}" for s, n in Counter(r["status"] for r in g.runs).items())


def group_table(s: Sweep) -> list[dict]:
    """One row per group: settings, n, statuses, each metric's mean [95% CI], and the test against the reference."""
    out = []
    for g in s.groups:
        row = {**g.settings, "n": g.n, "status": statuses(g)}
        for m, summary in g.summaries.items():
            row[m] = summary.mean
            if s.seeds:
                row[f"{m} 95% CI"] = f"[{summary.lo:.4g}, {summary.hi:.4g}]" if summary.n > 1 else ""
                row[f"{m} std"] = summary.std
                if summary.n != g.n:
                    row[f"{m} n"] = summary.n
        if s.reference is not None and s.seeds:
            row[f"{s.metric} - reference"] = g.diff
            row["p (Welch)"] = "reference" if g is s.reference else g.p
            sig = significant(g.p)
            row["significant"] = "" if g is s.reference else {True: "yes", False: "no", None: "untestable"}[sig]
        out.append(row)
    columns = list(dict.fromkeys(k for r in out for k in r))
    return [{c: r.get(c, "") for c in columns} for r in out]


def verdicts(s: Sweep) -> list[str]:
    """Plain sentences: which groups differ from the reference, and which do not, at the 5% level."""
    if not s.seeds:
        return ["One run per setting (seed not swept): no intervals and no tests; sweep seed=0,1,2,... to get them."]
    if s.reference is None:
        return [f"No {s.metric} to compare."]
    ref, lines = label(s.reference), []
    same = [f"{label(g)} (p={g.p:.2g})" for g in s.groups if g is not s.reference and significant(g.p) is False]
    differ = [f"{label(g)} (p={g.p:.2g})" for g in s.groups if significant(g.p)]
    untestable = [label(g) for g in s.groups if g is not s.reference and significant(g.p) is None]
    if same:
        lines.append(f"NOT significantly different from {ref} in {s.metric} (Welch, 5%): " + "; ".join(same))
    if differ:
        lines.append(f"Significantly different from {ref} in {s.metric} (Welch, 5%): " + "; ".join(differ))
    if untestable:
        lines.append("Not testable (fewer than two finite values): " + "; ".join(untestable))
    return lines


def markdown(rows: list[dict]) -> list[str]:
    columns = list(rows[0])
    return ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns),
            *("| " + " | ".join(fmt(r[c]) for c in columns) + " |" for r in rows)]


def write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def parse_pairs(text: str) -> dict[str, str]:
    pairs = [p.split("=", 1) for p in text.split(",") if p]
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(f"--reference wants key=value[,key=value...], got {text!r}")
    return dict(pairs)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dlstudy-summarize", description=__doc__)
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--metric", default=None, help="sort and compare by this tag (default: test/acc, else test/loss)")
    parser.add_argument("--mode", choices=("min", "max"), default=None)
    parser.add_argument("--reach", action="append", default=[], metavar="TAG=VALUE",
                        help="also report the first step where TAG >= VALUE, e.g. val/acc=0.95")
    parser.add_argument("--reference", default=None, metavar="KEY=VALUE,...",
                        help="compare every group with this one (default: the best by --metric)")
    args = parser.parse_args(argv)
    if not args.sweep.is_dir() or not list(args.sweep.glob("*/.hydra")):
        parser.error(f"{args.sweep} is not a sweep folder (no job folders with .hydra/ inside)")
    try:
        reach = {k: float(v) for k, v in (r.split("=", 1) for r in args.reach)}
        s = summarize(args.sweep, args.metric, args.mode, reach, args.reference and parse_pairs(args.reference))
    except ValueError as e:
        parser.error(str(e))
    groups = group_table(s)
    write_csv(args.sweep / "summary.csv", s.rows)
    write_csv(args.sweep / "groups.csv", groups)
    per_seed = "over seeds: mean, 95% CI (Student's t), std" if s.seeds else "one run per setting"
    text = [f"# {args.sweep.name}, sorted by {s.metric} ({s.mode})", "", f"## Settings ({per_seed})", "",
            *markdown(groups), "", *verdicts(s), "", "## Jobs", "", *markdown(s.rows)]
    (args.sweep / "summary.md").write_text("\n".join(text) + "\n")
    print("\n".join(markdown(groups)) + "\n\n" + "\n".join(verdicts(s)))
    counts = {st: sum(r["status"] == st for r in s.rows) for st in ("finished", "diverged", "failed")}
    print(f"\n{len(s.rows)} jobs in {len(s.groups)} settings: " + ", ".join(f"{n} {st}" for st, n in counts.items())
          + f"; written to {args.sweep}")
    for tag in ("train/loss", "val/loss", "val/acc"):
        if any(tag in j["series"] for j in s.jobs):
            curves_figure(s.jobs, tag, s.settings).savefig(args.sweep / f"curves_{tag.replace('/', '_')}.png", dpi=100)
    for param in s.settings:
        if s.metric in s.groups[0].summaries:
            metric_figure(s.groups, param, s.metric).savefig(
                args.sweep / f"{s.metric.replace('/', '_')}_vs_{param.replace('/', '_')}.png", dpi=100)


if __name__ == "__main__":
    main()
