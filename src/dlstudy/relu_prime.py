"""Bertoin et al.'s Section 3 quantity, without training: how often does ReLU'(0) change a gradient?

For each random initialisation, one pass over the training images in mini-batches (file order, pixels
in [0, 1], PyTorch's default init, cross-entropy), comparing the first layer's weight gradient computed
with ReLU'(0) = 0 and with ReLU'(0) = 1 on the same weights and batches; the fraction of inits for
which some batch gives a different gradient, with a Clopper-Pearson 95% interval. An init stops at the
first batch that differs. Only batches with an exact zero entering a ReLU are backpropagated twice:
elsewhere the two backward passes are the same operations on the same numbers (`exhaustive=True`
backpropagates every batch, to check that).
"""

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
from scipy.stats import binomtest
from torch import nn

from dlstudy.data.idx import read_idx
from dlstudy.nets import MLP, ReLUAlpha

PRECISIONS = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist package


@dataclass(frozen=True)
class Cell:
    """One setting of the grid: an MLP of `depth` hidden layers of `width` units, in one precision."""

    precision: str
    depth: int
    width: int
    batch_norm: bool = False


def grid(depths: Sequence[int], widths: Sequence[int], precisions: Sequence[str], base_depth: int = 3,
         base_width: int = 256, batch_norms: Sequence[bool] = (False, True)) -> list[Cell]:
    """The paper's two curves: depth at `base_width`, width at `base_depth`, for each precision and batch norm."""
    shapes = [(d, base_width) for d in depths] + [(base_depth, w) for w in widths if w != base_width]
    return [Cell(p, d, w, bn) for p in precisions for bn in batch_norms for d, w in sorted(set(shapes))]


def load_images(source: str, folder: Path | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """uint8 images (N, 28, 28), labels (N,) and their description: the training set where present, else the test set.

    `folder` holds the IDX files (plain or .gz); by default Debian's Fashion-MNIST folder, or
    <$DLSTUDY_DATA_DIR or data>/MNIST/raw/ as data=mnist reads it.
    """
    if source not in ("mnist", "fashion"):
        raise ValueError(f"source must be 'mnist' or 'fashion', got {source!r}")
    if folder is None:
        data_dir = Path(os.environ.get("DLSTUDY_DATA_DIR", "data"))
        folder = FASHION_DIR if source == "fashion" else data_dir / "MNIST" / "raw"
    name = {"mnist": "MNIST", "fashion": "Fashion-MNIST"}[source]
    names = [("train", f"{name} training set"), ("t10k", f"{name} test set (the training set is absent)")]
    for prefix, description in names:
        files = [folder / f"{prefix}-{kind}-idx{d}-ubyte{ext}" for kind, d in (("images", 3), ("labels", 1))
                 for ext in ("", ".gz")]
        images, labels = (next((f for f in files[i:i + 2] if f.exists()), None) for i in (0, 2))
        if images and labels:
            return read_idx(images), read_idx(labels).long(), description
    raise FileNotFoundError(f"no {source} images and labels under {folder}")


def mini_batches(images: torch.Tensor, labels: torch.Tensor, batch_size: int, dtype: torch.dtype) -> list:
    """[(X (B, 784) in [0, 1] as torchvision's ToTensor gives them, cast to dtype, y (B,))], in file order."""
    X = images.reshape(len(images), -1).float().div(255).to(dtype)  # (N, 784)
    return [(X[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, len(X), batch_size)]


def make_net(cell: Cell, seed: int, rule: str = "chain") -> nn.Module:
    """The MLP of a cell with PyTorch's default init for this seed, built in float32 and then cast."""
    torch.manual_seed(seed)
    net = MLP(28 * 28, [cell.width] * cell.depth, 10, activation=partial(ReLUAlpha, 0.0, rule),
              batch_norm=cell.batch_norm)
    return net.to(PRECISIONS[cell.precision]).train()


def _relus(net: nn.Module) -> list[ReLUAlpha]:
    return [m for m in net.modules() if isinstance(m, ReLUAlpha)]


def has_exact_zero(net: nn.Module, X: torch.Tensor) -> bool:
    """Whether some input of some ReLU is exactly 0 in this forward pass."""
    found = []
    handles = [m.register_forward_hook(lambda m, inputs, out: found.append(bool((inputs[0] == 0).any())))
               for m in _relus(net)]
    try:
        with torch.no_grad():
            net(X)
    finally:
        for h in handles:
            h.remove()
    return any(found)


def first_layer_grad(net: nn.Module, X: torch.Tensor, y: torch.Tensor, alpha: float) -> torch.Tensor:
    """The gradient of the mean cross-entropy w.r.t. the first Linear's weight, with ReLU'(0) = alpha."""
    for m in _relus(net):
        m.alpha = alpha
    net.zero_grad(set_to_none=True)
    F.cross_entropy(net(X), y).backward()
    first = next(m for m in net.modules() if isinstance(m, nn.Linear))
    return first.weight.grad.clone()  # (width, 784)


def first_difference(net: nn.Module, batches: Iterable, exhaustive: bool = False) -> int | None:
    """Index of the first mini-batch whose first-layer gradient differs between ReLU'(0) = 0 and 1; None if none."""
    for i, (X, y) in enumerate(batches):
        if not exhaustive and not has_exact_zero(net, X):
            continue
        if not torch.equal(first_layer_grad(net, X, y, 0.0), first_layer_grad(net, X, y, 1.0)):
            return i
    return None


def proportion(firsts: Sequence[int | None]) -> dict:
    """k of n inits differed (a batch index, not None), the fraction, and its Clopper-Pearson 95% interval."""
    k, n = sum(f is not None for f in firsts), len(firsts)
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return {"n": n, "k": k, "fraction": k / n, "low": float(ci.low), "high": float(ci.high)}


def measure_cell(cell: Cell, images: torch.Tensor, labels: torch.Tensor, inits: int, batch_size: int = 256,
                 rule: str = "chain", first_seed: int = 0) -> dict:
    """The fraction of inits (seeds first_seed, first_seed + 1, ...) whose gradients differ, with its interval."""
    batches = mini_batches(images, labels, batch_size, PRECISIONS[cell.precision])
    start, cpu = time.perf_counter(), time.process_time()
    firsts = [first_difference(make_net(cell, seed, rule), batches) for seed in range(first_seed, first_seed + inits)]
    return {**asdict(cell), **proportion(firsts), "first_batches": firsts,
            "seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}


def relative_change(net: nn.Module, X: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """|g(1) - g(0)| / |g(0)| for the first-layer gradient g(alpha) of this batch, and the fraction of exact zeros
    among the ReLU inputs."""
    found = []
    handles = [m.register_forward_hook(lambda m, i, o: found.append((i[0] == 0).float().mean().item()))
               for m in _relus(net)]
    g0 = first_layer_grad(net, X, y, 0.0).double()
    for h in handles:
        h.remove()
    g1 = first_layer_grad(net, X, y, 1.0).double()
    return ((g1 - g0).norm() / g0.norm()).item(), sum(found) / len(found)


def gradient_change(cell: Cell, images: torch.Tensor, labels: torch.Tensor, inits: int, rule: str) -> dict:
    """relative_change on one batch over inits, under one rule: its median and largest value, and the zeros."""
    X, y = mini_batches(images, labels, len(images), PRECISIONS[cell.precision])[0]
    changes, zeros = zip(*(relative_change(make_net(cell, seed, rule), X, y) for seed in range(inits)))
    return {**asdict(cell), "rule": rule, "median": float(torch.tensor(changes).median()), "max": max(changes),
            "zero_frac": sum(zeros) / len(zeros)}


CHANGE_CELLS = (Cell("float32", 3, 256), Cell("float16", 3, 256), Cell("float16", 3, 256, batch_norm=True))


def study_grid() -> list[Cell]:
    """The default grid, sized for about 10 minutes on 2 CPU cores: every precision at the paper's 3 x 256 MLP,
    then its depth and width curves in float32 and float16 (float64 gives 0; bfloat16 is slow on a CPU)."""
    headline = grid((3,), (), tuple(PRECISIONS))
    curves = grid((1, 2, 6), (16, 64, 512), ("float32",)) + grid((1, 2, 6), (16, 64), ("float16",))
    return headline + [c for c in curves if c not in headline]


def _measure_in_worker(args: tuple) -> dict:
    torch.set_num_threads(1)  # on a shared machine, OpenMP threads waiting on each other cost more than they give
    return measure_cell(*args)


def measure_grid(cells: Sequence[Cell], images: torch.Tensor, labels: torch.Tensor, inits: int,
                 batch_size: int = 256, rule: str = "chain", jobs: int = 1) -> Iterator[dict]:
    """measure_cell over the grid, in `jobs` processes of one thread each; rows as they are done."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    work = [(c, images, labels, inits, batch_size, rule) for c in cells]
    if jobs == 1:
        yield from (measure_cell(*w) for w in work)
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield from (f.result() for f in as_completed([pool.submit(_measure_in_worker, w) for w in work]))


def main(argv: list[str] | None = None) -> None:
    """dlstudy-relu-prime: measure the grid, write it as JSON (rows, data, settings, wall time)."""
    import argparse
    import json
    import sys

    parser = argparse.ArgumentParser(prog="dlstudy-relu-prime", description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("mnist", "fashion"), default="mnist")
    parser.add_argument("--folder", type=Path, default=None, help="folder of the IDX files (default: see load_images)")
    parser.add_argument("--images", type=int, default=10_000, help="one pass over the first N images")
    parser.add_argument("--inits", type=int, default=100, help="random initialisations per cell")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--rule", choices=("chain", "paper"), default="chain")
    parser.add_argument("--grid", choices=("study", "small"), default="study",
                        help="small: the 3 x 256 MLP in float64, float32 and float16, without batch norm")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (one thread each)")
    parser.add_argument("--out", type=Path, default=Path("relu_prime_section3.json"))
    args = parser.parse_args(argv)
    for name in ("images", "inits", "batch_size", "jobs"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    try:
        images, labels, description = load_images(args.data, args.folder)
    except (OSError, ValueError) as e:
        parser.error(str(e))
    images, labels = images[:args.images], labels[:args.images]
    small = grid((3,), (), ("float64", "float32", "float16"), batch_norms=(False,))
    cells = study_grid() if args.grid == "study" else small
    start, rows = time.perf_counter(), []
    settings = {"data": f"the first {len(images):,} images of the {description}", "images": len(images),
                "batch_size": args.batch_size, "inits": args.inits, "rule": args.rule, "jobs": args.jobs,
                "torch": torch.__version__, "cells": len(cells)}
    for row in measure_grid(cells, images, labels, args.inits, args.batch_size, args.rule, args.jobs):
        rows.append(row)  # written after every cell: a long grid stopped early keeps what it measured
        rows.sort(key=lambda r: cells.index(Cell(r["precision"], r["depth"], r["width"], r["batch_norm"])))
        args.out.write_text(json.dumps({**settings, "seconds": time.perf_counter() - start, "rows": rows}, indent=1))
        print(f"{len(rows)}/{len(cells)} cells", file=sys.stderr, flush=True)
    changes = [gradient_change(c, images[:args.batch_size], labels[:args.batch_size], 20, rule)
               for c in CHANGE_CELLS for rule in ("chain", "paper")]
    args.out.write_text(json.dumps({**settings, "seconds": time.perf_counter() - start, "rows": rows,
                                    "changes": changes}, indent=1))
    for r in rows:
        print(f"{r['precision']:>8} depth {r['depth']} width {r['width']:>4} bn {r['batch_norm']!s:>5}: "
              f"{r['k']}/{r['n']} = {r['fraction']:.2f} [{r['low']:.2f}, {r['high']:.2f}]  ({r['seconds']:.0f} s)")
    print(f"{len(rows)} cells in {time.perf_counter() - start:.0f} s; written to {args.out}")


if __name__ == "__main__":
    main()
