"""Serve in-memory tensors as whole batches: one gather per batch, no per-sample __getitem__ + collate."""

import torch


class BatchLoader:
    """An iterable of (X, y) batches over tensors, reshuffled each epoch from (seed, epoch).

    Lightning calls `sampler.set_epoch(epoch)` on every loader at the start of an epoch (also after a
    resume), so the order of epoch e is the same in every run with the same seed. With `steps` > 1 each
    item joins the next `steps` batches of that order into one (steps * batch_size, ...) gather, for
    dlstudy.multistep to split again; `limit` stops the epoch after that many batches.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0, rank: int = 0, world_size: int = 1):
        if len(X) != len(y):
            raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.drop_last, self.seed = batch_size, shuffle, drop_last, seed
        self.rank, self.world_size = rank, world_size  # under DDP each rank serves its own 1/world of the data
        self.epoch = 0
        self.skip_next = 0  # items (batches, or groups of `steps` batches) of the next epoch already trained
        self.steps, self.limit = 1, None

    batch_sampler = None  # Lightning inspects both attributes of anything that has a `sampler`

    @property
    def sampler(self) -> "BatchLoader":
        return self  # where Lightning looks for set_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def num_batches(self) -> int:
        """Batches in an epoch (the items are groups of `steps` of them)."""
        n = len(self.X) // self.world_size
        batches = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return batches if self.limit is None else min(batches, self.limit)

    def __len__(self) -> int:
        return -(-self.num_batches // self.steps)

    def __iter__(self):
        n = len(self.X)
        if self.shuffle:
            g = torch.Generator().manual_seed((self.seed * 1_000_003 + self.epoch) % 2**63)
            order = torch.randperm(n, generator=g).to(self.X.device)
        else:
            order = None
        if self.world_size > 1:  # the same order on every rank, split between them; equal lengths
            order = torch.arange(n, device=self.X.device) if order is None else order
            order = order[:n // self.world_size * self.world_size][self.rank::self.world_size]
        start, self.skip_next = self.skip_next, 0
        n = len(order) if order is not None else n  # this rank's share
        last = min(self.num_batches * self.batch_size, n)  # one past the epoch's last sample
        for i in range(start, len(self)):
            lo, hi = i * self.steps * self.batch_size, min((i + 1) * self.steps * self.batch_size, last)
            if order is None:
                yield self.X[lo:hi], self.y[lo:hi]  # views: no copy
            else:
                idx = order[lo:hi]
                yield self.X[idx], self.y[idx]  # (steps * B, ...) one gather each
