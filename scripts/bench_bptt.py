"""dlstudy.nets.bptt against autograd, as rnn_memory runs: training seconds of `dlstudy-train experiment=rnn_memory`
at its longest sequences (T = 100), for the GRU and the tanh RNN, with model.net.hand_bptt=false and =true, at the
study's 32 units and at 128 (where the arithmetic outweighs autograd's bookkeeping, and the backward's recomputed
gates cost more than they save).

Each repetition is one sweep of the eight runs, one at a time (the pairs interleaved), seed 0; the time is the sum of
the runs' `cost/epoch_s` (first to last training batch of each epoch: not the start-up, not validation). The speed-up
is the ratio within a repetition, its median [lowest, highest] over them. Rewrites the `results:bptt` block of
docs/benchmarks.md.

    python scripts/bench_bptt.py [--reps 3] [--seq-len 100] [--no-write]        (make bench-bptt)
"""

import argparse
import os
import platform
import statistics
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

CELLS = ("gru", "rnn")
WIDTHS = (32, 128)  # rnn_memory's, and a wide net's
COST = "+callbacks.cost._target_=dlstudy.callbacks.Cost"  # rnn_memory does not log cost/epoch_s on its own


def command(sweep: Path, seq_len: int) -> list[str]:
    exe = str(Path(sys.executable).with_name("dlstudy-train"))
    return [exe, "-m", "experiment=rnn_memory", f"data.seq_len={seq_len}", f"model.net.cell={','.join(CELLS)}",
            f"model.net.num_hiddens={','.join(map(str, WIDTHS))}",
            "model.net.hand_bptt=false,true", "seed=0", "hydra/launcher=basic", f"hydra.sweep.dir={sweep}",
            COST, *QUIET]


def training_seconds(sweep: Path) -> dict[tuple[str, int, bool], float]:
    """(cell, num_hiddens, hand_bptt) -> the run's summed cost/epoch_s."""
    out = {}
    for job in sweep_jobs(sweep):
        epochs = job["series"].get("cost/epoch_s")
        if job["status"] != "finished" or not epochs:
            raise RuntimeError(f"{job['job']}: {job['status']}, {len(epochs or [])} epochs timed")
        params = job["params"]
        hand = params["model.net.hand_bptt"].lower() == "true"
        out[params["model.net.cell"], int(params["model.net.num_hiddens"]), hand] = sum(v for _, v in epochs)
    return out


def spread(values: list[float], fmt: str) -> str:
    """Median [lowest, highest]."""
    v = sorted(values)
    return f"{fmt.format(statistics.median(v))} [{fmt.format(v[0])}, {fmt.format(v[-1])}]"


def table(reps: list[dict], seq_len: int, load: list[float]) -> str:
    lines = [f"Machine: {platform.machine()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}; "
             f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end ({os.cpu_count()} cores). "
             f"{len(reps)} repetitions, median [lowest, highest]. Run on "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}.", "",
             f"| rnn_memory run, T = {seq_len}, seed 0 | units | autograd (hand_bptt=false), training s | "
             "dlstudy.nets.bptt (hand_bptt=true), training s | speed-up |", "| --- | --- | --- | --- | --- |"]
    for cell in CELLS:
        for width in WIDTHS:
            plain, hand = [r[cell, width, False] for r in reps], [r[cell, width, True] for r in reps]
            lines.append(f"| {'GRU' if cell == 'gru' else 'tanh RNN'} | {width} | {spread(plain, '{:.1f}')} | "
                         f"{spread(hand, '{:.1f}')} | {spread([p / h for p, h in zip(plain, hand)], '{:.2f}×')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    args = parser.parse_args()
    load, reps = [os.getloadavg()[0]], []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.reps):
            sweep = Path(tmp) / f"rep{rep}"
            subprocess.run(command(sweep, args.seq_len), check=True, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            reps.append(training_seconds(sweep))
            print(f"rep {rep}: " + ", ".join(f"{c} {w} {'hand' if h else 'autograd'} {s:.1f} s"
                                           for (c, w, h), s in sorted(reps[-1].items())), flush=True)
    load.append(os.getloadavg()[0])
    text = table(reps, args.seq_len, load)
    print("\n" + text)
    if not args.no_write:
        write_block(PROJECT_ROOT / "docs" / "benchmarks.md", "bptt", text)


if __name__ == "__main__":
    main()
