"""Shared helpers: run the real Hydra app in-process or as a console script, read TensorBoard files."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dlstudy.build import compose_train  # noqa: F401  (tests import it from here)

# Quiet and quick: no progress bar or model table in test logs.
QUIET = ["callbacks.progress_bar=null", "++trainer.enable_progress_bar=false", "++trainer.enable_model_summary=false"]


def cpu_unless_named(overrides) -> dict[str, str]:
    """The environment of a run that names no accelerator: DLSTUDY_ACCELERATOR=cpu, so that on a machine with a GPU
    the suite's runs stay the CPU runs whose values the tests know (Lightning's `auto` would take the GPU); the GPU
    tests name theirs. An environment variable, not an override, so that sweeps' job folders keep their names."""
    named = any(o in ("trainer=gpu", "trainer=mps") or o.startswith("trainer.accelerator=") for o in overrides)
    return {} if named else {"DLSTUDY_ACCELERATOR": "cpu"}


@pytest.fixture
def train(tmp_path, monkeypatch):
    """Run `dlstudy-train <overrides>` in this process, in a fresh run folder under tmp_path."""
    from dlstudy.train import main

    def run(*overrides: str, run_dir: Path | None = None):
        run_dir = run_dir or tmp_path / "run"
        sweep = "-m" in overrides
        where = ["-m", f"hydra.sweep.dir={run_dir}"] if sweep else [f"hydra.run.dir={run_dir}"]
        overrides = [o for o in overrides if o != "-m"]
        for key, value in cpu_unless_named(overrides).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(sys, "argv", ["dlstudy-train", *where, *QUIET, *overrides])
        main()
        return run_dir

    return run


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run a console script of this environment as a user would, on the CPU (see cpu_unless_named)."""
    exe = Path(sys.executable).with_name(args[0])
    return subprocess.run([str(exe), *args[1:]], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=os.environ | cpu_unless_named(args))


def scalars(run_dir: Path) -> dict[str, list[float]]:
    """Every scalar series in a run folder's event files, by tag, in step order (as TensorBoard plots them).

    The files are read in name order, which starts with the second each was opened: a run resumed within the
    second its interrupted process opened its file can sort before it (by process id), so file order is not
    step order."""
    return {tag: [value for _, value in points] for tag, points in series(run_dir).items()}


def series(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar series in a run folder's event files as (step, value) pairs, by tag, in step order (a stable
    sort: a step written twice keeps its order)."""
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0})
    ea.Reload()
    return {tag: sorted(((e.step, e.value) for e in ea.Scalars(tag)), key=lambda point: point[0])
            for tag in ea.Tags()["scalars"]}


def event_accumulator(run_dir: Path) -> EventAccumulator:
    ea = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "histograms": 0, "images": 0, "tensors": 0})
    ea.Reload()
    return ea


def quick_trainer(**kwargs):
    """A real Lightning Trainer on the CPU without logs, checkpoints or progress bar."""
    import lightning as L

    options = dict(accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                   enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    return L.Trainer(**(options | kwargs))


SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist" / "raw"


def write_mnist(data_dir: Path, train: tuple, test: tuple, gz: bool = False, name: str = "MNIST") -> Path:
    """MNIST-format files under <data_dir>/MNIST/raw/, gzip-compressed as published when `gz`."""
    import gzip

    from dlstudy.data.idx import write_mnist as write

    write(data_dir, train, test, name)
    if gz:
        for f in (data_dir / name / "raw").iterdir():
            f.with_name(f.name + ".gz").write_bytes(gzip.compress(f.read_bytes()))
            f.unlink()
    return data_dir


@pytest.fixture
def fake_mnist(tmp_path):
    """Small random MNIST-format files (5,200 train: enough for the default val_size; 100 test), in both the
    MNIST/ and FashionMNIST/ folders, so either data set reads them instead of real files."""
    import torch

    g = torch.Generator().manual_seed(0)
    def split(n):
        return torch.randint(0, 256, (n, 28, 28), generator=g), torch.randint(0, 10, (n,), generator=g)
    train, test = split(5200), split(100)
    write_mnist(tmp_path / "data", train, test, name="FashionMNIST")
    return write_mnist(tmp_path / "data", train, test)


@pytest.fixture(scope="session")
def real_mnist(tmp_path_factory):
    """Real digits: a 'train' split from the first 8,000 official test images, 'test' from the last 2,000."""
    if not SHARED_MNIST.exists():
        pytest.skip(f"real MNIST files not found at {SHARED_MNIST} (they ship only beside CI's clone)")
    from dlstudy.data.idx import read_idx

    tmp = tmp_path_factory.mktemp("real")
    images, labels = (read_idx(SHARED_MNIST / f"t10k-{n}-idx{d}-ubyte.gz") for n, d in (("images", 3), ("labels", 1)))
    return write_mnist(tmp / "data", (images[:8000], labels[:8000]), (images[8000:], labels[8000:]))
