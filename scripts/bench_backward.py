"""dlstudy's hand-written backwards against torch's, in the runs users make: the training seconds of `dlstudy-train`
with the switch off (torch's backward) and on, for
- model.net.hand_bptt (dlstudy.nets.bptt), in experiment=rnn_memory at its longest sequences (T = 100, seed 0): the
  GRU and the tanh RNN of 32 units, where autograd's per-step bookkeeping outweighs the arithmetic; and in
  experiment=mnist_rnn, one epoch: a GRU of 128 units reading 28 rows of 28 pixels, 128 images a batch, where the
  arithmetic outweighs it and the hand-written backward's recomputed gates cost more than they save;
- model.net.flipped_input_grad (dlstudy.nets.conv), in experiment=conv_vs_mlp's CNNs of 2 and 8 channels (seed 0),
  where oneDNN's backward-data kernel for the second conv layer is slow.
The MNIST-shaped data is what `make bench` writes.

Each repetition runs every row's sweep, each run one at a time (the pairs interleaved); a run's time is the sum of
its `cost/epoch_s` (first to last training batch of each epoch: not the start-up, not validation). The speed-up is
the ratio within a repetition, its median [lowest, highest] over them. Rewrites the `results:backward` block of
docs/benchmarks.md.

    python scripts/bench_backward.py [--reps 3] [--no-write]        (make bench-backward)
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

import torch

from dlstudy import PROJECT_ROOT
from dlstudy.docblocks import write_block
from dlstudy.studies.report import sweep_jobs
from dlstudy.studies.runner import QUIET

from bench import spread, write_data  # scripts/bench.py, beside this one: its figures' form, its MNIST-sized data

class Row(NamedTuple):
    switch: str  # the setting run both ways: false (torch's backward), true (dlstudy's)
    overrides: list[str]  # {data}: the folder write_data filled
    by: str = "model.net.cell"  # the setting that tells the sweep's nets apart
    only: str = "gru"  # the net where the sweep does not set `by`


SWEEPS = {
    "rnn_memory, T = 100, 32 units": Row("model.net.hand_bptt", ["experiment=rnn_memory", "data.seq_len=100",
                                                                 "model.net.cell=gru,rnn", "seed=0"]),
    "mnist_rnn, 1 epoch, 128 units": Row("model.net.hand_bptt", ["experiment=mnist_rnn", "trainer.max_epochs=1",
                                                                 "paths.data_dir={data}"]),
    "conv_vs_mlp, MNIST-sized images": Row("model.net.flipped_input_grad", [
        "experiment=conv_vs_mlp", "arch=cnn", "size=2,8", "seed=0", "data=mnist", "paths.data_dir={data}"], by="size"),
}
COST = "++callbacks.cost._target_=dlstudy.callbacks.Cost"  # as conv_vs_mlp has it; the RNN experiments do not
NETS = {"gru": "GRU", "rnn": "tanh RNN", "2": "CNN, 2 channels", "8": "CNN, 8 channels"}


def command(row: Row, sweep: Path, data: Path) -> list[str]:
    exe = str(Path(sys.executable).with_name("dlstudy-train"))
    return [exe, "-m", *(o.format(data=data) for o in row.overrides), f"{row.switch}=false,true",
            "hydra/launcher=basic", f"hydra.sweep.dir={sweep}", COST, *QUIET]


def training_seconds(sweep: Path, row: Row) -> dict[tuple[str, bool], float]:
    """(net, switched on) -> the run's summed cost/epoch_s; the net is the value of row.by (row.only if unset)."""
    out = {}
    for job in sweep_jobs(sweep):
        epochs = job["series"].get("cost/epoch_s")
        if job["status"] != "finished" or not epochs:
            raise RuntimeError(f"{job['job']}: {job['status']}, {len(epochs or [])} epochs timed")
        params = job["params"]
        hand = params[row.switch].lower() == "true"
        out[params.get(row.by, row.only), hand] = sum(v for _, v in epochs)
    return out


def table(reps: list[dict[str, dict]], load: list[float], data: str, rows: dict[str, Row] = SWEEPS) -> str:
    """reps: per repetition, per row name (of `rows`), training_seconds of its sweep."""
    lines = [f"Machine: {platform.machine()}, {torch.get_num_threads()} CPU threads, torch {torch.__version__}; "
             f"load average {load[0]:.1f} at the start, {load[1]:.1f} at the end ({os.cpu_count()} cores). "
             f"The MNIST-sized data (mnist_rnn, conv_vs_mlp): {data}. {len(reps)} repetitions, median [lowest, "
             "highest]. Run on "
             f"{datetime.now(timezone.utc).strftime('%Y-%m-%d')}.", "",
             "| run | net | switch | torch's backward (false), training s | dlstudy's (true), training s | speed-up |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in reps[0]:
        for net in sorted({n for n, _ in reps[0][name]}, key=list(NETS).index):
            plain, hand = ([r[name][net, h] for r in reps] for h in (False, True))
            lines.append(f"| {name} | {NETS[net]} | {rows[name].switch} "
                         f"| {spread(plain, '{:.1f}')} | {spread(hand, '{:.1f}')} | "
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
            for i, (name, row) in enumerate(SWEEPS.items()):
                sweep = Path(tmp) / f"rep{rep}-{i}"
                subprocess.run(command(row, sweep, data), check=True, cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                reps[-1][name] = training_seconds(sweep, row)
                print(f"rep {rep}, {name}: " + ", ".join(f"{c} {'dlstudy' if h else 'torch'} {s:.1f} s"
                                                         for (c, h), s in sorted(reps[-1][name].items())), flush=True)
    load.append(os.getloadavg()[0])
    text = table(reps, load, source)
    print("\n" + text)
    if not args.no_write:
        write_block(PROJECT_ROOT / "docs" / "benchmarks.md", "backward", text)


if __name__ == "__main__":
    main()
