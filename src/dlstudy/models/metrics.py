"""A metric torchmetrics lacks: cheap epoch means for the training stage, which updates every step."""

import torch
from torchmetrics import Metric


class BatchMeans(Metric):
    """Epoch means of per-sample values, one per column of a (B, len(names)) batch: correctness, entropy, ...

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

    def update(self, values: torch.Tensor) -> None:
        if values.ndim != 2 or values.shape[1] != len(self.names):
            raise ValueError(f"expected values of shape (B, {len(self.names)}), got {tuple(values.shape)}")
        self.sums.add_(values.sum(0))  # (len(names),)
        self.count.add_(len(values))

    def compute(self) -> dict[str, torch.Tensor]:
        return dict(zip(self.names, self.sums / self.count))
