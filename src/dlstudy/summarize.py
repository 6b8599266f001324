"""dlstudy-summarize <sweep folder>: one row per job (swept settings, status, final and best metrics),
written as summary.md and summary.csv, with PNG plots, into the sweep folder. Works on a sweep that is
still running or partly failed."""

import argparse
import csv
import math
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlstudy.plots import curves_figure, metric_figure
from dlstudy.runs import read_status

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dlstudy-summarize", description=__doc__)
    parser.add_argument("sweep", type=Path)
    parser.add_argument("--metric", default=None, help="sort by this tag (default: test/acc, else test/loss)")
    parser.add_argument("--mode", choices=("min", "max"), default=None)
    parser.add_argument("--reach", action="append", default=[], metavar="TAG=VALUE",
                        help="also report the first step where TAG >= VALUE, e.g. val/acc=0.95")
    args = parser.parse_args(argv)
    if not args.sweep.is_dir() or not list(args.sweep.glob("*/.hydra")):
        parser.error(f"{args.sweep} is not a sweep folder (no job folders with .hydra/ inside)")
    reach = {k: float(v) for k, v in (r.split("=", 1) for r in args.reach)}
    jobs = job_rows(args.sweep)
    swept, rows = table(jobs, reach)
    metric = args.metric or next((m for m in ("test/acc", "test/loss") if any(m in r for r in rows)), "status")
    mode = args.mode or ("max" if metric.rsplit("/", 1)[-1] in HIGHER_IS_BETTER else "min")
    rows.sort(key=lambda r: (not isinstance(r.get(metric), float) or not math.isfinite(r[metric]),
                             (-1 if mode == "max" else 1) * (r[metric] if isinstance(r.get(metric), float) else 0)))
    columns = list(rows[0])
    with open(args.sweep / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(fmt(r[c]) for c in columns) + " |" for r in rows]
    (args.sweep / "summary.md").write_text(f"# {args.sweep.name}, sorted by {metric} ({mode})\n\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))
    counts = {s: sum(r["status"] == s for r in rows) for s in ("finished", "diverged", "failed")}
    print(f"\n{len(rows)} jobs: " + ", ".join(f"{n} {s}" for s, n in counts.items()) + f"; written to {args.sweep}")
    for tag in ("train/loss", "val/loss", "val/acc"):
        if any(tag in j["series"] for j in jobs):
            curves_figure(jobs, tag, swept).savefig(args.sweep / f"curves_{tag.replace('/', '_')}.png", dpi=100)
    for param in swept:
        metric_figure(rows, param, [p for p in swept if p != param], metric).savefig(
            args.sweep / f"{metric.replace('/', '_')}_vs_{param.replace('/', '_')}.png", dpi=100)


if __name__ == "__main__":
    main()
