"""Test accuracy and CPU epoch time of experiment=mnist_{mlp,cnn,rnn} on the real digits available offline.

    python scripts/mnist_results.py [--epochs 3]      (writes the README block between the results:mnist markers)

Trains on the first 8,000 official test images (1,000 of them for validation) and tests on the other
2,000: the machines here cannot download the 60,000 training images. Needs ../shared/data/mnist/raw.
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy import PROJECT_ROOT
from dlstudy.build import build, build_trainer, compose_train
from dlstudy.data.idx import read_idx, write_mnist
from dlstudy.docblocks import write_block

SHARED = PROJECT_ROOT.parent / "shared" / "data" / "mnist" / "raw"


class EpochTimer(Callback):
    """Seconds of each training epoch, from its first batch to its end (validation excluded)."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, pl_module):
        self.start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        self.seconds.append(time.perf_counter() - self.start)


def write_split(root: Path) -> None:
    images, labels = (read_idx(SHARED / f"t10k-{n}-idx{d}-ubyte.gz") for n, d in (("images", 3), ("labels", 1)))
    write_mnist(root, (images[:8000], labels[:8000]), (images[8000:], labels[8000:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    lines = ["| experiment | test acc (2,000 real digits) | s / epoch on 7,000 images | s / epoch scaled to 55,000 |",
             "| --- | --- | --- | --- |"]
    with tempfile.TemporaryDirectory() as tmp:
        write_split(Path(tmp))
        for name in ("mnist_mlp", "mnist_cnn", "mnist_rnn"):
            cfg = compose_train(f"experiment={name}", f"paths.data_dir={tmp}", "data.val_size=1000",
                                f"trainer.max_epochs={args.epochs}", "callbacks.progress_bar=null",
                                "++trainer.enable_progress_bar=false", output_dir=Path(tmp) / name)
            L.seed_everything(cfg.seed, workers=True, verbose=False)  # as dlstudy-train does: the same run each time
            datamodule, system = build(cfg)
            trainer, timer = build_trainer(cfg), EpochTimer()
            trainer.callbacks.append(timer)
            trainer.fit(system, datamodule=datamodule)
            (metrics,) = trainer.test(system, datamodule=datamodule, ckpt_path="best", weights_only=True, verbose=False)
            per_epoch = sorted(timer.seconds)[len(timer.seconds) // 2]
            lines.append(f"| {name} | {metrics['test/acc']:.4f} | {per_epoch:.2f} | {per_epoch * 55_000 / 7_000:.1f} |")
            print(lines[-1], flush=True)
    lines += ["", f"`python scripts/mnist_results.py`: {platform.machine()}, {torch.get_num_threads()} threads, "
                  f"torch {torch.__version__}, {args.epochs} epochs, seed {cfg.seed}."]
    write_block(PROJECT_ROOT / "README.md", "mnist", "\n".join(lines))


if __name__ == "__main__":
    main()
