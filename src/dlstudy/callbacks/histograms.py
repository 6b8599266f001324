"""Per-layer weight and gradient histograms in TensorBoard, every N optimizer steps."""

import math

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.callbacks.tensorboard import writer_of


class WeightHistograms(Callback):
    """Histograms `weights/<param>` and `grads/<param>`, taken just before the optimizer step.

    Bucketed with torch.histc on the tensor's own device: TensorBoard's default (NumPy, exponential
    buckets) costs about 100x more on a 784x512 layer and showed up as 20% of an MNIST epoch.
    """

    def __init__(self, every_n_steps: int = 100, bins: int = 64):
        if every_n_steps <= 0 or bins <= 0:
            raise ValueError(f"every_n_steps and bins must be positive integers, got {every_n_steps!r}, {bins!r}")
        self.every_n_steps, self.bins = every_n_steps, bins

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        step = trainer.global_step
        if step % self.every_n_steps or (writer := writer_of(trainer)) is None:
            return
        for name, p in pl_module.named_parameters():
            self._add(writer, f"weights/{name}", p.detach(), step)
            if p.grad is not None:
                self._add(writer, f"grads/{name}", p.grad, step)

    def _add(self, writer, tag: str, t: torch.Tensor, step: int) -> None:
        t = t.float().flatten()
        lo, hi = t.min().item(), t.max().item()
        if not (math.isfinite(lo) and math.isfinite(hi) and t.numel()):
            return  # a diverged tensor has no histogram; the loss curve shows it
        hi = hi if hi > lo else lo + 1e-12
        counts = torch.histc(t, bins=self.bins, min=lo, max=hi)
        limits = torch.linspace(lo, hi, self.bins + 1)[1:]
        writer.add_histogram_raw(tag, lo, hi, t.numel(), t.sum().item(), t.square().sum().item(),
                                 limits.tolist(), counts.tolist(), step)
