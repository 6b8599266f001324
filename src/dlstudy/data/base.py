"""LightningDataModules over tensors held in memory, served as whole batches."""

import math

import lightning as L
import torch

from dlstudy.data.batches import BatchLoader


class InMemoryDataModule(L.LightningDataModule):
    """Serves `self.splits[split] = (X, y)`; subclasses fill the splits in `setup` and set the shapes.

    `input_shape`, `num_inputs` and `num_classes` (classification) or `num_targets` (regression) are
    known before any data is loaded, so configs take shapes from here instead of repeating them.
    """

    task: str  # "classification" or "regression"
    input_shape: tuple[int, ...]

    def __init__(self, batch_size: int = 64, on_device: bool = False):
        super().__init__()
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size, self.on_device = batch_size, on_device
        self.splits: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.train_steps, self.train_limit = 1, None  # batches per training item, and per epoch (dlstudy.multistep)

    @property
    def num_inputs(self) -> int:
        return math.prod(self.input_shape)

    def _loader(self, split: str, shuffle: bool = False) -> BatchLoader:
        if self.on_device and self.trainer is not None:  # once: every later batch is a gather on the device
            device = self.trainer.strategy.root_device
            self.splits[split] = tuple(t.to(device) for t in self.splits[split])
        X, y = self.splits[split]
        ranks = {"rank": self.trainer.global_rank, "world_size": self.trainer.world_size} if self.trainer else {}
        # Shuffling follows the run's seed (seed_everything); the split follows the data's own seed.
        return BatchLoader(X, y, self.batch_size, shuffle=shuffle, seed=torch.initial_seed(), **ranks)

    def train_dataloader(self) -> BatchLoader:
        loader = self._loader("train", shuffle=True)
        loader.steps, loader.limit = self.train_steps, self.train_limit
        if self.trainer is not None:  # resumed mid-epoch: go on with that epoch's order where it stopped
            done = self.trainer.fit_loop.epoch_loop.batch_progress.current.processed
            loader.skip_next = done if 0 < done < len(loader) else 0
        return loader

    def val_dataloader(self) -> BatchLoader:
        return self._loader("val")

    def test_dataloader(self) -> BatchLoader:
        return self._loader("test")


class RandomSplitDataModule(InMemoryDataModule):
    """One pool of data from `load()`, split once into train/val/test by a seeded permutation."""

    def __init__(self, batch_size: int = 64, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0,
                 on_device: bool = False):
        super().__init__(batch_size, on_device)
        for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
            if not 0 < f < 1:
                raise ValueError(f"{name} must be in (0, 1), got {f!r}")
        if val_fraction + test_fraction >= 1:
            raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction!r}")
        self.val_fraction, self.test_fraction, self.seed = val_fraction, test_fraction, seed

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        X, y = self.load()
        perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(self.seed))
        n_test, n_val = round(self.test_fraction * len(X)), round(self.val_fraction * len(X))
        parts = {"test": perm[:n_test], "val": perm[n_test:n_test + n_val], "train": perm[n_test + n_val:]}
        self.splits = {k: (X[idx], y[idx]) for k, idx in parts.items()}
