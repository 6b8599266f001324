"""Test accuracy on shifted test images: what weight sharing and pooling buy (a test-time shift only)."""

from collections.abc import Iterator

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

DIRECTIONS = torch.tensor([[0, 1], [0, -1], [1, 0], [-1, 0]])  # right, left, down, up as (dy, dx)


def shift_images(X: torch.Tensor, pixels: int, directions: torch.Tensor) -> torch.Tensor:
    """Move image i by `pixels` along directions[i] (one of DIRECTIONS), filling with the background (the minimum)."""
    return next(shifted(X, (pixels,), directions))


def shifted(X: torch.Tensor, shifts: tuple[int, ...], directions: torch.Tensor) -> Iterator[torch.Tensor]:
    """shift_images(X, s, directions) for each s of `shifts`, in turn; the images' grouping by direction and the
    background are found once for all of them."""
    H, W = X.shape[2:]
    directions = directions.to(X.device)
    moves = [(d.tolist(), (directions == d).all(1).nonzero().squeeze(1)) for d in directions.unique(dim=0)]
    background = float(X.amin())
    for p in shifts:
        if p == 0:
            yield X
            continue
        padded = torch.nn.functional.pad(X, (p, p, p, p), value=background)  # (B, C, H+2p, W+2p)
        out = torch.empty_like(X)
        for (dy, dx), i in moves:  # one window of the padded images per direction: out[y, x] = in[y - dy, x - dx]
            top, left = p - dy * p, p - dx * p
            out[i] = padded[i, :, top:top + H, left:left + W]
        yield out  # (B, C, H, W)


class ShiftedTestAccuracy(Callback):
    """At test, also scores each test image moved by each of `shifts` pixels, logged as `test/acc_shift<k>`.

    Every image moves the same distance in a direction drawn for it from a fixed seed (right, left, down
    or up), so every run sees the same shifted test set; the images move, the system does not change.
    """

    def __init__(self, shifts: tuple[int, ...] = (1, 2, 3, 4), seed: int = 0):
        shifts = tuple(shifts)
        if not shifts or not all(isinstance(s, int) and s > 0 for s in shifts):
            raise ValueError(f"shifts must be a list of positive integers, got {list(shifts)}")
        self.shifts, self.seed = shifts, seed

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module) -> None:
        self.correct = torch.zeros(len(self.shifts))
        self.count = 0
        self.generator = torch.Generator().manual_seed(self.seed)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        X, y = batch
        if X.ndim != 4 or min(X.shape[2:]) <= max(self.shifts):
            raise ValueError(f"ShiftedTestAccuracy needs images (B, C, H, W) larger than the shifts, got {tuple(X.shape)}")
        directions = DIRECTIONS[torch.randint(0, 4, (len(X),), generator=self.generator)]  # (B, 2)
        with torch.no_grad():
            for i, X_shifted in enumerate(shifted(X, self.shifts, directions)):
                y_hat = pl_module(X_shifted)  # (B, num_classes)
                self.correct[i] += (y_hat.argmax(-1) == y).sum().item()
        self.count += len(y)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if self.count:
            pl_module.log_dict({f"test/acc_shift{s}": (c / self.count).item() for s, c in zip(self.shifts, self.correct)})
