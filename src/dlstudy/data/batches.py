"""Serve in-memory tensors as whole batches: one gather per batch, no per-sample __getitem__ + collate."""

import torch


class BatchLoader:
    """An iterable of (X, y) batches over tensors, reshuffled each epoch from (seed, epoch).

    Lightning calls `sampler.set_epoch(epoch)` on every loader at the start of an epoch (also after a
    resume), so the order of epoch e is the same in every run with the same seed.

    Under DDP (`world_size` > 1) every rank walks the same order in global batches of
    `world_size * batch_size` samples and takes its own part of each: the ranks' shards are disjoint,
    together they hold every sample once, and every rank makes the same number of steps (DDP needs
    that). A last global batch too small to give each rank a sample joins the one before it.

    With `steps` > 1 (one rank only) each item joins the next `steps` batches of that order into one
    (steps * batch_size, ...) gather, for dlstudy.multistep to split again; `limit` stops the epoch after
    that many batches.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0, rank: int = 0, world_size: int = 1):
        if len(X) != len(y):
            raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
        if len(X) < world_size:
            raise ValueError(f"{len(X)} samples cannot be shared between {world_size} ranks")
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.drop_last, self.seed = batch_size, shuffle, drop_last, seed
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.skip_next = 0  # items (batches, or groups of `steps` batches) of the next epoch already trained
        self.steps, self.limit = 1, None

    batch_sampler = None  # Lightning inspects both attributes of anything that has a `sampler`

    @property
    def sampler(self) -> "BatchLoader":
        return self  # where Lightning looks for set_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _global_batches(self) -> int:
        n, step = len(self.X), self.batch_size * self.world_size
        if self.drop_last:
            return n // step
        full, rest = divmod(n, step)
        return full + (rest >= self.world_size)  # a rest smaller than the ranks joins the batch before it

    @property
    def num_batches(self) -> int:
        """Batches in an epoch (the items are groups of `steps` of them)."""
        batches = self._global_batches()
        return batches if self.limit is None else min(batches, self.limit)

    def __len__(self) -> int:
        return -(-self.num_batches // self.steps)

    def _bounds(self, i: int) -> tuple[int, int]:
        """Where global batch i starts and ends in the epoch's order."""
        step = self.batch_size * self.world_size
        end = len(self.X) if i == self._global_batches() - 1 and not self.drop_last else (i + 1) * step
        return i * step, end

    def __iter__(self):
        if self.steps > 1 and self.world_size > 1:
            raise ValueError("groups of several batches (dlstudy.multistep) are served to one rank only")
        n = len(self.X)
        if self.shuffle:
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**63)
            order = torch.randperm(n, generator=g).to(self.X.device)
        else:
            order = None
        start, self.skip_next = self.skip_next, 0
        for i in range(start, len(self)):
            first, last = i * self.steps, min((i + 1) * self.steps, self.num_batches) - 1
            lo, hi = self._bounds(first)[0], self._bounds(last)[1]
            if self.world_size > 1:  # this rank's part of the global batch
                part = torch.arange(lo, hi, device=self.X.device).tensor_split(self.world_size)[self.rank]
                yield gather(self.X, self.y, part if order is None else order[part])  # (B or B+1, ...)
            elif order is None:
                yield self.X[lo:hi], self.y[lo:hi]  # views: no copy
            else:
                yield gather(self.X, self.y, order[lo:hi])  # (steps * B, ...)


def gather(X: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows idx of X and y, one gather each. index_select copies whole rows; indexing (`X[idx]`) copies
    element by element, about twice as long for a group of uint8 images on the CPU (docs/benchmarks.md)."""
    return X.index_select(0, idx), y.index_select(0, idx)
