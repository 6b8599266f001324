"""Serve in-memory tensors as whole batches: one gather per batch, no per-sample __getitem__ + collate."""

import torch


class BatchLoader:
    """An iterable of (X, y) batches over tensors, reshuffled each epoch from (seed, epoch).

    Lightning calls `sampler.set_epoch(epoch)` on every loader at the start of an epoch (also after a
    resume), so the order of epoch e is the same in every run with the same seed.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = False,
                 drop_last: bool = False, seed: int = 0, rank: int = 0, world_size: int = 1):
        if len(X) != len(y):
            raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
        self.X, self.y = X, y
        self.batch_size, self.shuffle, self.drop_last, self.seed = batch_size, shuffle, drop_last, seed
        self.rank, self.world_size = rank, world_size  # under DDP each rank serves its own 1/world of the data
        self.epoch = 0
        self.skip_next = 0  # batches of the next epoch already trained before a resume

    batch_sampler = None  # Lightning inspects both attributes of anything that has a `sampler`

    @property
    def sampler(self) -> "BatchLoader":
        return self  # where Lightning looks for set_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.X) // self.world_size
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

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
        for i in range(start, len(self)):
            if order is None:
                sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
                yield self.X[sl], self.y[sl]  # views: no copy
            else:
                idx = order[i * self.batch_size:(i + 1) * self.batch_size]
                yield self.X[idx], self.y[idx]  # (B, ...) one gather each
