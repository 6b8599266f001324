"""MNIST through torchvision's own download, md5 check and IDX parsing; served as whole uint8 batches.

The official 60,000 training images give train and a seeded validation part; test is the official
10,000, never mixed into training. Images stay uint8 in memory (47 MB) and become normalised float32
per batch, after the transfer to the device, so the input costs one gather and one fused op per step.
"""

import gzip
import os
import shutil
from pathlib import Path

import torch
from filelock import FileLock
from torchvision.datasets import MNIST

from dlstudy.data.base import InMemoryDataModule
from dlstudy.data.idx import check_idx

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
MEAN, STD = 0.1307, 0.3081  # of the training pixels, scaled to [0, 1]


def _gunzip(gz: Path, target: Path) -> None:
    """Extract next to the target, then rename: no reader ever sees a half-written file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError) as e:
        tmp.unlink(missing_ok=True)
        raise ValueError(f"{gz} is truncated or corrupted ({e}); delete it and run again") from None
    os.replace(tmp, target)


class MNISTDataModule(InMemoryDataModule):
    """28x28 handwritten digits as (B, 1, 28, 28) float32; `on_device=True` keeps the whole set on the GPU."""

    task = "classification"
    input_shape = (1, 28, 28)
    num_classes = 10

    def __init__(self, data_dir: str = "data", batch_size: int = 128, val_size: int = 5000, normalize: bool = True,
                 max_shift: int = 0, on_device: bool = False, download: bool = True, seed: int = 0):
        super().__init__(batch_size, on_device)
        if not 0 < val_size < 60_000:
            raise ValueError(f"val_size must be in (0, 60000), got {val_size!r}")
        if not 0 <= max_shift < 14:
            raise ValueError(f"max_shift must be in [0, 14), got {max_shift!r}")
        self.data_dir, self.val_size, self.normalize = Path(data_dir), val_size, normalize
        self.max_shift, self.download, self.seed = max_shift, download, seed

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "MNIST" / "raw"

    def prepare_data(self) -> None:
        """Use files already there (plain or .gz), else download once; safe for concurrent jobs."""
        try:
            self.raw_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValueError(f"data_dir: cannot create {self.raw_dir} ({e.strerror})") from None
        with FileLock(self.raw_dir / ".lock"):
            for name in FILES:
                gz = self.raw_dir / f"{name}.gz"
                if not (self.raw_dir / name).exists() and gz.exists():
                    _gunzip(gz, self.raw_dir / name)
            if self.download and self._missing():
                try:
                    for train in (True, False):
                        MNIST(self.data_dir, train=train, download=True)
                except Exception:  # no network: the message below says what to do
                    pass
            if missing := self._missing():
                raise ValueError(
                    f"MNIST files missing in {self.raw_dir}: {', '.join(missing)} (download impossible or off). "
                    f"Put the four files {', '.join(FILES)} there, plain or .gz (torchvision's mirror: "
                    f"{MNIST.mirrors[0]}), or point data.data_dir (or DLSTUDY_DATA_DIR) at a folder holding MNIST/raw/")

    def _missing(self) -> list[str]:
        return [name for name in FILES if not (self.raw_dir / name).exists()]

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        for name in FILES:
            check_idx(self.raw_dir / name)
        train, test = (MNIST(self.data_dir, train=t) for t in (True, False))
        if self.val_size >= len(train.data):
            raise ValueError(f"val_size={self.val_size} leaves no training images (the files hold {len(train.data)})")
        perm = torch.randperm(len(train.data), generator=torch.Generator().manual_seed(self.seed))
        val, fit = perm[:self.val_size], perm[self.val_size:]
        images = train.data.unsqueeze(1)  # (60000, 1, 28, 28) uint8
        self.splits = {"train": (images[fit], train.targets[fit]), "val": (images[val], train.targets[val]),
                       "test": (test.data.unsqueeze(1), test.targets)}

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        X, y = batch
        X = self.from_uint8(X)
        if self.max_shift and self.trainer is not None and self.trainer.training:
            X = random_shift(X, self.max_shift)
        return X, y

    def from_uint8(self, X: torch.Tensor) -> torch.Tensor:
        """uint8 pixels (B, 1, 28, 28) -> the float32 input the nets see."""
        X = X.float().div_(255)
        return X.sub_(MEAN).div_(STD) if self.normalize else X


def random_shift(X: torch.Tensor, s: int) -> torch.Tensor:
    """Shift each image by its own (dy, dx) in [-s, s], filling with the background, in one gather."""
    B, C, H, W = X.shape
    padded = torch.nn.functional.pad(X, (s, s, s, s), value=float(X.amin()))  # (B, C, H+2s, W+2s)
    dy, dx = (torch.randint(0, 2 * s + 1, (2, B), device=X.device))
    rows = (torch.arange(H, device=X.device) + dy[:, None])[:, None, :, None]  # (B, 1, H, 1)
    cols = (torch.arange(W, device=X.device) + dx[:, None])[:, None, None, :]  # (B, 1, 1, W)
    b = torch.arange(B, device=X.device)[:, None, None, None]
    c = torch.arange(C, device=X.device)[None, :, None, None]
    return padded[b, c, rows, cols]  # (B, C, H, W)
