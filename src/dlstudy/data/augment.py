"""Batch augmentations on the device, one gather or one select per batch: random shifts and flips."""

import torch


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


def random_hflip(X: torch.Tensor) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2 (clothes have no handedness; digits do)."""
    flip = torch.rand(len(X), device=X.device) < 0.5  # (B,)
    return torch.where(flip[:, None, None, None], X.flip(-1), X)  # (B, C, H, W)
