"""The README's Fashion-MNIST table, from real runs: experiment=fashion_mlp and fashion_cnn over seeds.

    python scripts/fashion_results.py                   # runs both sweeps (seeds 0,1,2), then writes the table
    python scripts/fashion_results.py --sweeps DIR ...  # only reads finished sweeps (any split of the seeds)

Each sweep is the real command, `dlstudy-train -m experiment=<name> seed=0,1,2`. Per experiment: test
accuracy on the official 10,000 (mean ± std, 95% Student-t interval, n), seconds per epoch, and the
training time until the test accuracy first reached 90% (the TestCurve callback's `curve/*` scalars).
The table goes into README.md between `<!-- results:fashion -->` and `<!-- /results -->`.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlstudy.docblocks import write_block
from dlstudy.runs import read_status
from dlstudy.stats import describe

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ("fashion_mlp", "fashion_cnn")
TARGET = 0.90
# Xiao et al. 2017, github.com/zalandoresearch/fashion-mnist: its scikit-learn benchmark and submitted rows.
REFERENCE = [("scikit-learn MLPClassifier (best of the benchmark's settings)", 0.877),
             ("scikit-learn SVC (RBF kernel, the benchmark's best)", 0.897),
             ("submitted: MLP 256-128-64", 0.900),
             ("submitted: 2 conv layers with max pooling, > 300 epochs (TensorFlow tutorial)", 0.916),
             ("submitted: 2 conv layers + 3 FC, 1.8M parameters", 0.932)]


def run_sweep(name: str, seeds: str, out: Path) -> Path:
    """The real command a user runs; returns its sweep folder."""
    exe = Path(sys.executable).with_name("dlstudy-train")
    subprocess.run([str(exe), "-m", f"experiment={name}", f"seed={seeds}", f"hydra.sweep.dir={out}",
                    "callbacks.progress_bar=null"], check=True, cwd=ROOT)
    return out


def experiment_of(job: Path) -> str:
    """The `experiment=` choice a job ran with, from Hydra's record of the job."""
    import yaml

    return yaml.safe_load((job / ".hydra" / "hydra.yaml").read_text())["hydra"]["runtime"]["choices"]["experiment"]


def job_figures(job: Path) -> dict:
    ea = EventAccumulator(str(job), size_guidance={"scalars": 0})
    ea.Reload()
    acc = [e.value for e in ea.Scalars("curve/test_acc")]
    seconds = [e.value for e in ea.Scalars("curve/train_s")]
    reached = next((t for a, t in zip(acc, seconds) if a >= TARGET), None)
    return {"test_acc": ea.Scalars("test/acc")[-1].value, "epochs": len(acc), "train_s": seconds[-1],
            "s_per_epoch": seconds[-1] / len(seconds), "to_target_s": reached}


def table(sweeps: list[Path]) -> str:
    lines = ["| experiment | test acc, mean ± std [95% CI] (n) | s / epoch | epochs | time to 90% test acc |",
             "| --- | --- | --- | --- | --- |"]
    all_jobs = [j.parent for sweep in sweeps for j in sorted(sweep.glob("*/.hydra"))]
    threads = sorted({read_status(j).get("threads") for j in all_jobs} - {None})
    for name in EXPERIMENTS:
        jobs = [job_figures(j) for j in all_jobs if experiment_of(j) == name and read_status(j)["status"] == "finished"]
        if not jobs:
            continue
        acc = describe([j["test_acc"] for j in jobs])
        mean, sd, half = acc.mean, acc.std, acc.mean - acc.lo
        per_epoch = statistics.median(j["s_per_epoch"] for j in jobs)
        reached = [j["to_target_s"] for j in jobs if j["to_target_s"] is not None]
        to_target = f"{statistics.median(reached):.0f} s (median; {len(reached)} of {len(jobs)} runs)" if reached \
            else f"not reached ({len(jobs)} runs)"
        spread = f"{mean:.2%} ± {sd:.2%} [{mean - half:.2%}, {mean + half:.2%}]" if len(jobs) > 1 \
            else f"{mean:.2%}, one seed: no interval"
        lines.append(f"| `{name}` | {spread} ({len(jobs)}) | {per_epoch:.1f} | {jobs[0]['epochs']} | {to_target} |")
    lines += [f"| {label} | {acc:.1%} | | | |" for label, acc in REFERENCE]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines += ["", f"Measured by `python scripts/fashion_results.py`: {platform.machine()}, {os.cpu_count()} cores, "
              f"{'/'.join(map(str, threads))} torch thread(s) per run, torch {torch.__version__}; load average when "
              f"written {load}. Reference rows: "
              f"Xiao et al. 2017, the Fashion-MNIST repository's scikit-learn benchmark and submitted results table."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sweeps", nargs="*", type=Path, help="finished sweep folders of fashion_mlp / fashion_cnn")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "fashion")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    sweeps = args.sweeps or [run_sweep(name, args.seeds, args.out / name) for name in EXPERIMENTS]
    text = table(sweeps)
    print(text)
    write_block(args.readme, "fashion", text)


if __name__ == "__main__":
    main()
