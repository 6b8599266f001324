"""Metrics torchmetrics lacks: cheap epoch means for the training stage, which updates every step."""

import torch
from torchmetrics import Metric


class BatchMeans(Metric):
    """Epoch means of per-sample values, one per column of a (N, len(names)) batch: correctness, entropy, ...

    One sum per column and a count, added to in place. Training updates its metrics every step, and
    torchmetrics' accuracy plus a mean metric (their per-update checks and state reassignment) took
    about 10% of an MNIST-MLP step on a CPU for these same two numbers (scripts/bench.py).
    """

    full_state_update = False

    def __init__(self, names: tuple[str, ...]):
        super().__init__()
        self.names = tuple(names)
        self.add_state("sums", torch.zeros(len(self.names)), dist_reduce_fx="sum")
        self.add_state("count", torch.zeros(()), dist_reduce_fx="sum")

    def update(self, values: torch.Tensor, sizes: list[int] | None = None) -> None:
        """`sizes`: the rows of several steps' batches, in order; each is summed and added on its own, so the
        sums are those of one update per step, to the last bit (dlstudy.multistep updates once per group)."""
        if values.ndim != 2 or values.shape[1] != len(self.names):
            raise ValueError(f"expected values of shape (N, {len(self.names)}), got {tuple(values.shape)}")
        for part in values.split(sizes) if sizes else (values,):
            self.sums.add_(part.sum(0))  # (len(names),)
        self.count.add_(len(values))

    def compute(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.sums / self.count))


class RegressionMeans(BatchMeans):
    """mse, mae and r2 of flattened predictions, from four running means: e², |e|, y and y² per target value.

    r2 = 1 - mse / var(y), torchmetrics' R2Score over the flattened targets."""

    def __init__(self):
        super().__init__(("mse", "mae", "y", "y2"))

    @staticmethod
    def values(point: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(N,) predictions and targets -> the (N, 4) columns this metric averages."""
        error = point - y
        return torch.stack([error.square(), error.abs(), y, y.square()], 1)

    def compute(self) -> dict[str, torch.Tensor]:
        m = super().compute()
        return {"mse": m["mse"], "mae": m["mae"], "r2": 1 - m["mse"] / (m["y2"] - m["y"].square())}
