"""One DataModule for the IDX image sets (MNIST, Fashion-MNIST): where the files come from, the official split.

The official training images give train and a seeded validation part; test is the official test set,
never mixed into training. Images stay uint8 in memory and become normalised float32 per batch, after
the transfer to the device, so the input costs one gather and one fused op per step.
"""

import errno
from pathlib import Path

import torch

from dlstudy.data.augment import random_hflip, random_shift
from dlstudy.data.base import InMemoryDataModule
from dlstudy.data.batches import gather
from dlstudy.data.idx import read_idx

FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


class IDXImageDataModule(InMemoryDataModule):
    """28x28 grey images as (B, 1, 28, 28) float32; subclasses name the set, its statistics and classes.

    Files come from, in order: `<data_dir>/<name>/raw/` (torchvision's layout, plain or .gz); a read-only
    installed copy (`installed_dirs`, used in place); torchvision's download into the first folder.
    """

    task = "classification"
    input_shape = (1, 28, 28)
    name: str  # torchvision's folder name under data_dir
    mean: float  # of the training pixels scaled to [0, 1]
    std: float
    class_names: tuple[str, ...]
    installed_dirs: tuple[str, ...] = ()
    install_hint = ""

    def __init__(self, data_dir: str = "data", batch_size: int = 128, val_size: int = 5000, normalize: bool = True,
                 max_shift: int = 0, hflip: bool = False, on_device: bool = False, download: bool = True,
                 seed: int = 0):
        super().__init__(batch_size, on_device)
        if not 0 < val_size < 60_000:
            raise ValueError(f"val_size must be in (0, 60000), got {val_size!r}")
        if not 0 <= max_shift < 14:
            raise ValueError(f"max_shift must be in [0, 14), got {max_shift!r}")
        self.data_dir, self.val_size, self.normalize = Path(data_dir), val_size, normalize
        self.max_shift, self.hflip, self.download, self.seed = max_shift, hflip, download, seed

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / self.name / "raw"

    def source(self) -> Path | None:
        """The first folder that holds all four files (plain or .gz), or None."""
        for folder in (self.raw_dir, *map(Path, self.installed_dirs)):
            if all(_find(folder, name) for name in FILES):
                return folder
        return None

    def prepare_data(self) -> None:
        """Find the files, else download them once (under a lock, so parallel jobs never see half a file)."""
        if self.source() is not None:
            return
        if not self.download:
            raise ValueError(self._missing_message("download off"))
        try:
            self.raw_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ValueError(f"data_dir: cannot create {self.raw_dir} ({e.strerror})") from None
        from filelock import FileLock  # only a run that downloads pays for importing it

        with FileLock(self.raw_dir / ".lock"):
            if self.source() is None:
                self._download()

    def _download(self) -> None:
        from torchvision import datasets  # only a run that downloads pays for importing torchvision

        try:
            for train in (True, False):
                getattr(datasets, self.name)(self.data_dir, train=train, download=True)
        except Exception as e:
            raise ValueError(download_error(e, self)) from None

    def _missing_message(self, why: str) -> str:
        where = " or ".join(str(d) for d in (self.raw_dir, *self.installed_dirs))
        hint = f"; {self.install_hint}" if self.install_hint else ""
        return (f"{self.name} files not found in {where} ({why}). Put the four files {', '.join(FILES)} in "
                f"{self.raw_dir}, plain or .gz{hint}; or point data.data_dir (or DLSTUDY_DATA_DIR) at a folder "
                f"holding {self.name}/raw/")

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        folder = self.source()
        if folder is None:
            raise ValueError(self._missing_message("prepare_data was not run, or they were removed"))
        (train_X, train_y), test = self._read(folder, "train", mapped=True), self._read(folder, "t10k")
        if self.val_size >= len(train_y):
            raise ValueError(f"val_size={self.val_size} leaves no training images (the files hold {len(train_y)})")
        perm = torch.randperm(len(train_y), generator=torch.Generator().manual_seed(self.seed))
        val, fit = perm[:self.val_size], perm[self.val_size:]
        self.splits = {"train": gather(train_X, train_y, fit), "val": gather(train_X, train_y, val), "test": test}

    def _read(self, folder: Path, prefix: str, mapped: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (N, 1, 28, 28) uint8 and labels (N,) int64, checked against each other and the class count.
        `mapped`: the images are mapped from their file (read_idx), for a caller that copies what it keeps."""
        images_path, labels_path = (_find(folder, f"{prefix}-{kind}") for kind in ("images-idx3-ubyte", "labels-idx1-ubyte"))
        images, labels = read_idx(images_path, mapped=mapped), read_idx(labels_path)
        if images.ndim != 3 or tuple(images.shape[1:]) != self.input_shape[1:]:
            raise ValueError(f"{images_path} holds images of shape {tuple(images.shape[1:])}, expected 28x28")
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(f"{labels_path} holds {len(labels)} labels for the {len(images)} images of {images_path}")
        if len(labels) and int(labels.max()) >= self.num_classes:
            raise ValueError(f"{labels_path} holds label {int(labels.max())}; {self.name} has {self.num_classes} classes")
        return images.unsqueeze(1), labels.long()

    def on_after_batch_transfer(self, batch, dataloader_idx: int):
        X, y = batch
        X = self.from_uint8(X)
        if self.trainer is not None and self.trainer.training:
            if self.max_shift:
                X = random_shift(X, self.max_shift)
            if self.hflip:
                X = random_hflip(X)
        return X, y

    def from_uint8(self, X: torch.Tensor) -> torch.Tensor:
        """uint8 pixels (B, 1, 28, 28) -> the float32 input the nets see."""
        X = X.float().div_(255)
        return X.sub_(self.mean).div_(self.std) if self.normalize else X


def _find(folder: Path, name: str) -> Path | None:
    """`folder/name`, else `folder/name.gz`, else None."""
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def download_error(e: Exception, dm: IDXImageDataModule) -> str:
    """One line that says why torchvision's download failed: network, checksum, disk or permissions."""
    if isinstance(e, PermissionError):
        return f"data_dir: no permission to write {dm.raw_dir} ({e.filename or e}); choose another data.data_dir"
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return f"data_dir: no space left on the device of {dm.raw_dir} while downloading {dm.name}"
    text = str(e)
    if "corrupted" in text:  # torchvision's md5 check of a downloaded archive
        return (f"a downloaded {dm.name} file failed its checksum in {dm.raw_dir} (a broken transfer or a "
                f"changed mirror); delete the .gz files there and run again")
    if "Error downloading" in text or "urlopen" in text:
        return dm._missing_message("no network: the download failed")
    return f"downloading {dm.name} into {dm.raw_dir} failed: {type(e).__name__}: {text.splitlines()[0] if text else e}"
