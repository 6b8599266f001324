"""Epoch time of dlstudy's Trainer pipeline against a hand-written loop and the usual torchvision pipeline.

    python scripts/bench.py [--reps 3]      (make bench)

Workload: MNIST-sized data (60,000 x 1x28x28 uint8; the real test digits tiled when ../shared has them,
else random pixels), MLP 784-512-512-10, batch 128, Adam. The three pipelines run interleaved, one
training epoch each per repetition, and the medians are compared, so machine noise hits all alike:
  (a) hand-written loop over in-memory tensors (the floor);
  (b) dlstudy: the real `experiment=mnist_mlp` run with its default callbacks and logging;
  (c) torchvision.datasets.MNIST + per-sample ToTensor/Normalize + DataLoader, same net and loop as (a).
"""

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from dlstudy import PROJECT_ROOT
from dlstudy.data.mnist import MEAN, STD, MNISTDataModule
from dlstudy.nets import MLP

SHARED = PROJECT_ROOT.parent / "shared" / "data" / "mnist" / "raw"


def write_data(root: Path) -> str:
    """MNIST-sized IDX files under root/MNIST/raw; returns where the pixels came from."""
    from torchvision.datasets.mnist import read_image_file, read_label_file
    import gzip, shutil
    if SHARED.exists():
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            with gzip.open(SHARED / f"{name}.gz") as src, open(root / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        images, labels = read_image_file(str(root / "t10k-images-idx3-ubyte")), read_label_file(str(root / "t10k-labels-idx1-ubyte"))
        source = "the 10,000 real MNIST test digits, tiled 6x"
    else:
        images, labels = torch.randint(0, 256, (10_000, 28, 28), dtype=torch.uint8), torch.randint(0, 10, (10_000,))
        source = "random pixels (real MNIST files not found)"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, (X, y) in (("train", (images.repeat(6, 1, 1), labels.repeat(6))), ("t10k", (images, labels))):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            (2051).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in X.shape) + X.numpy().tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(
            (2049).to_bytes(4, "big") + len(y).to_bytes(4, "big") + y.to(torch.uint8).numpy().tobytes())
    return source


def net_and_optimizer():
    net = MLP(784, [512, 512], 10)
    return net, torch.optim.Adam(net.parameters(), lr=1e-3)


def hand_loop(X: torch.Tensor, y: torch.Tensor) -> float:
    """(a): whole-tensor batches, the same preprocessing as dlstudy, nothing else."""
    net, opt = net_and_optimizer()
    start = time.perf_counter()
    for idx in torch.randperm(len(X)).split(128):
        xb = (X[idx].float() / 255 - MEAN) / STD  # (128, 1, 28, 28)
        loss = F.cross_entropy(net(xb), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def torchvision_loop(root: Path) -> float:
    """(c): the common template pipeline, PIL image -> ToTensor -> Normalize per sample, then collate."""
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    loader = DataLoader(datasets.MNIST(root, train=True, transform=tf), batch_size=128, shuffle=True)
    net, opt = net_and_optimizer()
    start = time.perf_counter()
    for xb, yb in loader:
        loss = F.cross_entropy(net(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


class EpochTimer(Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds = time.perf_counter() - self.start


def dlstudy_epoch(root: Path, out: Path) -> float:
    """(b): the real app's parts, composed from conf/ as `dlstudy-train experiment=mnist_mlp` would."""
    from dlstudy.build import build, build_trainer, compose_train

    cfg = compose_train("experiment=mnist_mlp", f"paths.data_dir={root}", "optimizer.lr=0.001", "scheduler=none",
                        "trainer.max_epochs=1", "++trainer.limit_val_batches=0", "data.val_size=1", output_dir=out)
    datamodule, system = build(cfg)
    trainer = build_trainer(cfg)
    timer = EpochTimer()
    trainer.callbacks.append(timer)
    trainer.fit(system, datamodule=datamodule)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = write_data(root)
        dm = MNISTDataModule(str(root), val_size=1)
        dm.setup()
        X, y = dm.splits["train"]
        times = {"a": [], "b": [], "c": []}
        for rep in range(args.reps):
            times["a"].append(hand_loop(X, y))
            times["b"].append(dlstudy_epoch(root, root / f"run{rep}"))
            times["c"].append(torchvision_loop(root))
            print(f"rep {rep}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nmachine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"torch {torch.__version__}; data: {source}; {args.reps} interleaved repetitions, medians")
    print("| pipeline | s / epoch |\n| --- | --- |")
    print(f"| (a) hand-written loop, in-memory tensors | {med['a']:.2f} |")
    print(f"| (b) dlstudy Trainer pipeline (default callbacks, logging) | {med['b']:.2f} |")
    print(f"| (c) torchvision Dataset + ToTensor/Normalize + DataLoader | {med['c']:.2f} |")
    print(f"\n(b)/(a) = {med['b'] / med['a']:.3f}    (c)/(b) = {med['c'] / med['b']:.2f}")


if __name__ == "__main__":
    main()
