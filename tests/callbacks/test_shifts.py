import pytest
import torch
from torch import nn

from dlstudy.callbacks import ShiftedTestAccuracy
from dlstudy.callbacks.shifts import DIRECTIONS, shift_images, shifted
from dlstudy.data import InMemoryDataModule
from dlstudy.models import Classifier
from tests.conftest import quick_trainer


def test_shift_images_moves_every_pixel_and_fills_with_the_background():
    X = torch.arange(2 * 1 * 5 * 6, dtype=torch.float32).reshape(2, 1, 5, 6) + 1
    right, up = DIRECTIONS[0], DIRECTIONS[3]
    out = shift_images(X, 2, torch.stack([right, up]))
    assert torch.equal(out[0, :, :, 2:], X[0, :, :, :-2]) and (out[0, :, :, :2] == X.min()).all()
    assert torch.equal(out[1, :, :-2], X[1, :, 2:]) and (out[1, :, -2:] == X.min()).all()
    assert torch.equal(shift_images(X, 0, torch.stack([right, up])), X)


def gathered(X: torch.Tensor, p: int, directions: torch.Tensor) -> torch.Tensor:
    """The oracle: every output pixel read from the padded input at (y - dy, x - dx), one index per pixel."""
    B, C, H, W = X.shape
    padded = torch.nn.functional.pad(X, (p, p, p, p), value=float(X.amin()))
    dy, dx = (directions * p).T
    rows = (torch.arange(H) + p - dy[:, None])[:, None, :, None]  # (B, 1, H, 1)
    cols = (torch.arange(W) + p - dx[:, None])[:, None, None, :]  # (B, 1, 1, W)
    return padded[torch.arange(B)[:, None, None, None], torch.arange(C)[None, :, None, None], rows, cols]


@pytest.mark.parametrize("pixels", [1, 3])
def test_shift_images_is_the_per_pixel_gather(pixels):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(40, 2, 7, 9, generator=g)
    directions = DIRECTIONS[torch.randint(0, 4, (40,), generator=g)]
    assert torch.equal(shift_images(X, pixels, directions), gathered(X, pixels, directions))


def test_shifted_gives_each_shift_of_one_batch_in_turn():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(30, 1, 8, 8, generator=g) - 5  # background -5 and below
    directions = DIRECTIONS[torch.randint(0, 3, (30,), generator=g)]  # three of the four directions in use
    outs = list(shifted(X, (1, 0, 2, 4), directions))
    assert len(outs) == 4 and outs[1] is X
    for out, p in zip(outs, (1, 0, 2, 4)):
        assert torch.equal(out, gathered(X, p, directions))


class Blobs(InMemoryDataModule):
    """16x16 black images with one bright 2x2 square away from the border; the class is its brightness."""

    task, input_shape, num_classes = "classification", (1, 16, 16), 2

    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        y = torch.randint(0, 2, (64,), generator=g)
        X = torch.zeros(64, 1, 16, 16)
        X[:, :, 7:9, 7:9] = (1 + y.float())[:, None, None, None]  # brightness 1 or 2
        self.splits = {s: (X, y) for s in ("train", "val", "test")}


class GlobalMax(nn.Module):
    """Translation invariant: the class is whether the brightest pixel exceeds 1.5."""

    def forward(self, X):
        m = X.flatten(1).amax(1)  # (B,)
        return torch.stack([1.5 - m, m - 1.5], 1)  # (B, 2)


class CentrePixel(nn.Module):
    """Reads one fixed pixel: any shift of 2 or more moves the square off it."""

    def forward(self, X):
        v = X[:, 0, 7, 7]  # (B,)
        return torch.stack([1.5 - v, v - 1.5], 1)  # (B, 2)


@pytest.mark.parametrize("net, shifted_acc", [(GlobalMax(), [1.0, 1.0, 1.0]), (CentrePixel(), None)])
def test_shifted_accuracy_is_what_an_invariant_net_keeps_and_a_pixel_reader_loses(net, shifted_acc):
    dm = Blobs(batch_size=16)
    trainer = quick_trainer(callbacks=[ShiftedTestAccuracy(shifts=[1, 2, 4])])
    (metrics,) = trainer.test(Classifier(net, num_classes=2), datamodule=dm, verbose=False)
    assert metrics["test/acc"] == 1.0
    got = [metrics[f"test/acc_shift{s}"] for s in (1, 2, 4)]
    if shifted_acc is not None:
        assert got == shifted_acc
    else:  # shifted 2 or 4 px the reader sees background: it says class 0, right only for class-0 images
        class0 = (dm.splits["test"][1] == 0).float().mean().item()
        assert got[1] == pytest.approx(class0) and got[2] == pytest.approx(class0)


def test_bad_shifts():
    with pytest.raises(ValueError, match="shifts"):
        ShiftedTestAccuracy(shifts=[0])
