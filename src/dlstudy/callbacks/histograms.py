"""Per-layer weight and gradient histograms in TensorBoard, every N optimizer steps."""

import lightning as L
from lightning.pytorch.callbacks import Callback

from dlstudy.callbacks.tensorboard import writer_of


class WeightHistograms(Callback):
    """Histograms `weights/<param>` and `grads/<param>`, taken just before the optimizer step."""

    def __init__(self, every_n_steps: int = 100):
        if every_n_steps <= 0:
            raise ValueError(f"every_n_steps must be a positive integer, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        step = trainer.global_step
        if step % self.every_n_steps or (writer := writer_of(trainer)) is None:
            return
        for name, p in pl_module.named_parameters():
            writer.add_histogram(f"weights/{name}", p.detach(), step)
            if p.grad is not None:
                writer.add_histogram(f"grads/{name}", p.grad, step)
