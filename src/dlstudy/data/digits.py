"""scikit-learn's bundled 8x8 handwritten digits: 1,797 real images, no download."""

import torch

from dlstudy.data.base import RandomSplitDataModule


class DigitsDataModule(RandomSplitDataModule):
    """Digits 0-9 as (B, 1, 8, 8) float32 in [0, 1], split train/val/test by a fixed seed."""

    task = "classification"
    input_shape = (1, 8, 8)
    num_classes = 10

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        from sklearn.datasets import load_digits  # here: scikit-learn takes ~0.5 s to import, and only this needs it

        images, labels = load_digits(return_X_y=True)  # (N, 64) with values 0..16
        X = torch.as_tensor(images, dtype=torch.float32).reshape(-1, *self.input_shape) / 16.0
        return X, torch.as_tensor(labels, dtype=torch.long)

    def from_uint8(self, X: torch.Tensor) -> torch.Tensor:
        """8-bit pixels (B, 1, 8, 8), e.g. from a PNG, on the [0, 1] scale of the training data."""
        return X.float() / 255
