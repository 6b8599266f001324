"""dlstudy.nets.bptt against autograd, in the runs users make: the training seconds of `dlstudy-train` with
model.net.hand_bptt=false and =true, for
- experiment=rnn_memory at its longest sequences (T = 100, seed 0): the GRU and the tanh RNN of 32 units, where
  autograd's per-step bookkeeping outweighs the arithmetic; and
- experiment=mnist_rnn, one epoch: a GRU of 128 units reading 28 rows of 28 pixels, 128 images a batch, where the
  arithmetic outweighs it and the hand-written backward's recomputed gates cost more than they save (the data as
  `make bench` writes it).

Each repetition runs both sweeps, each run one at a time (the pairs interleaved); a run's time is the sum of its
`cost/epoch_s` (first to last training batch of each epoch: not the start-up, not validation). The speed-up is the
ratio within a repetition, its median [lowest, highest] over them. Rewrites the `results:bptt` block of
docs/benchmarks.md.

    python scripts/bench_bptt.py [--reps 3] [--no-write]        (make bench-bptt)
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import torch

from dlstudy import PROJECT_ROOT
from dlstudy.docblocks import write_block
from dlstudy.studies.report import sweep_jobs
from dlstudy.studies.runner import QUIET

from bench import spread, write_data  # scripts/bench.py, beside this one: its figures' form, its MNIST-sized data

SWEEPS = {  # a row name: the overrides of its runs ({data}: the folder write_data filled)
    "rnn_memory, T = 100, 32 units": ["experiment=rnn_memory", "data.seq_len=100", "model.net.cell=gru,rnn", "seed=0"],
    "mnist_rnn, 1 epoch, 128 units": ["experiment=mnist_rnn", "trainer.max_epochs=1", "paths.data_dir={data}"],
}
COST = "+callbacks.cost._target_=dlstudy.callbacks.Cost"  # neither experiment logs cost/epoch_s on its own
CELLS = {"gru": "GRU", "rnn": "tanh RNN"}


def command(overrides: list[str], sweep: Path, data: Path) -> list[str]:
    exe = str(Path(sys.executable).with_name("dlstudy-train"))
    return [exe, "-m", *(o.format(data=data) for o in overrides), "model.net.hand_bptt=false,true",
            "hydra/launcher=basic", f"hydra.sweep.dir={sweep}", COST, *QUIET]


def training_seconds(sweep: Path) -> dict[tuple[str, bool], float]:
    """(cell, hand_bptt) -> the run's summed cost/epoch_s (cell: gru where the sweep does not set it)."""
    out = {}
    for job in sweep_jobs(sweep):
        epochs = job["series"].get("cost/epoch_s")
        if job["status"] != "finished" or not epochs:
            raise RuntimeError(f"{job['job']}: {job['status']}, {len(epochs or [])} epochs timed")
        params = job["params"]
        hand = params["model.net.hand_bptt"].lower() == "true"
        out[params.get("model.net.cell", "gru"), hand] = sum(v for _, v in epochs)
    return out


def table(reps: list[dict[str, dict]], load: list[float], data: str) -> str:
    """reps: per repetition, per row name, training_seconds of its sweep."""
    lines = [f"Machine: {platform.machine()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}; "
             f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end ({os.cpu_count()} cores). "
             f"mnist_rnn's data: {data}. {len(reps)} repetitions, median [lowest, highest]. Run on "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}.", "",
             "| run | cell | autograd (hand_bptt=false), training s | dlstudy.nets.bptt (hand_bptt=true), training s "
             "| speed-up |", "| --- | --- | --- | --- | --- |"]
    for name in reps[0]:
        for cell in sorted({c for c, _ in reps[0][name]}, key=list(CELLS).index):
            plain, hand = ([r[name][cell, h] for r in reps] for h in (False, True))
            lines.append(f"| {name} | {CELLS[cell]} | {spread(plain, '{:.1f}')} | {spread(hand, '{:.1f}')} | "
                         f"{spread([p / h for p, h in zip(plain, hand)], '{:.2f}×')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    args = parser.parse_args()
    load, reps = [os.getloadavg()[0]], []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        source = write_data(data)
        for rep in range(args.reps):
            reps.append({})
            for i, (name, overrides) in enumerate(SWEEPS.items()):
                sweep = Path(tmp) / f"rep{rep}-{i}"
                subprocess.run(command(overrides, sweep, data), check=True, cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                reps[-1][name] = training_seconds(sweep)
                print(f"rep {rep}, {name}: " + ", ".join(f"{c} {'bptt' if h else 'autograd'} {s:.1f} s"
                                                         for (c, h), s in sorted(reps[-1][name].items())), flush=True)
    load.append(os.getloadavg()[0])
    text = table(reps, load, source)
    print("\n" + text)
    if not args.no_write:
        write_block(PROJECT_ROOT / "docs" / "benchmarks.md", "bptt", text)


if __name__ == "__main__":
    main()
