"""How much gradient reaches each step of a sequence: the vanishing / exploding gradient measurement."""

import math

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.callbacks.tensorboard import writer_of


def step_gradient_norms(system: L.LightningModule, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(T,): mean over samples of ||d loss_i / d x_{i,t}||, for inputs X of shape (B, T, F)."""
    X = X.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = system.loss(system(X), y)  # the batch mean: each sample's share is loss_i / B
        (grad,) = torch.autograd.grad(loss, X)  # (B, T, F); no parameter's .grad is touched
    return (grad * len(X)).norm(dim=2).mean(0)  # (T,)


class SequenceGradients(Callback):
    """Every N training steps (step 0, at initialisation, included) logs `seqgrad/first` and `seqgrad/last`
    (mean per-sample norm of d loss / d input at the first and last step), `seqgrad/log10_ratio` (first over
    last: how many decades the gradient loses on its way back), and `grad/norm` and `grad/max_norm`: the norm
    of the whole parameter gradient before any clipping, now and the largest since the last log."""

    def __init__(self, every_n_steps: int = 50):
        if not isinstance(every_n_steps, int) or every_n_steps <= 0:
            raise ValueError(f"every_n_steps must be a positive integer, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps
        self.max_norm = 0.0

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        self.batch = batch  # Lightning's loop: the step's batch; dlstudy.multistep hands each step its part

    def on_before_backward(self, trainer: L.Trainer, pl_module, loss: torch.Tensor) -> None:
        """Before each optimizer step's backward, with that step's weights and batch (also inside a group)."""
        writer = writer_of(trainer)
        if writer is None or trainer.global_step % self.every_n_steps:
            return
        multistep = getattr(pl_module, "multistep", None)
        X, y = multistep.part if multistep is not None else self.batch
        if X.ndim != 3:
            raise ValueError(f"SequenceGradients reads (batch, steps, features) inputs, got shape {tuple(X.shape)}")
        norms = step_gradient_norms(pl_module, X, y)  # (T,)
        first, last = norms[0].item(), norms[-1].item()
        step = trainer.global_step
        writer.add_scalar("seqgrad/first", first, step)
        writer.add_scalar("seqgrad/last", last, step)
        ratio = first / last if last > 0 else math.nan
        writer.add_scalar("seqgrad/log10_ratio", math.log10(ratio) if ratio > 0 else -math.inf, step)

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        """Lightning clips after this hook: the norm seen here is the one clipping would act on. The gradients are
        read from the optimizer's parameters: walking the module's instead would hash its torchmetrics at each step."""
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
        self.max_norm = max(self.max_norm, norm) if math.isfinite(norm) else math.inf
        writer = writer_of(trainer)
        if writer is not None and trainer.global_step % self.every_n_steps == 0:
            writer.add_scalar("grad/norm", norm, trainer.global_step)
            writer.add_scalar("grad/max_norm", self.max_norm, trainer.global_step)
            self.max_norm = 0.0
