"""Per-layer activation and gradient statistics in TensorBoard (`callbacks=diagnostics`).

Hooks every activation module (the nonlinearity's input is the layer's pre-activation) and every
weight, only for the steps it logs (every N steps, step 0 included: the statistics at initialisation).
The hooks are removed between them: a full backward hook, even one that returns at once, wraps every
call of its module in autograd nodes, which costs a deep net about a tenth of each step. A compiled net
keeps them for the whole fit: torch.compile does not watch a module's hooks, so a graph traced without
them would never call hooks added later. Keys:
act_mean, act_std, zero_frac, dead_frac, preact_zero_frac (exact zeros entering the activation),
alpha_used_frac and alpha_used_count (where ReLU'(0) decides the gradient, by the module's rule), grad_norm.
"""

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn

from dlstudy.callbacks.tensorboard import writer_of
from dlstudy.init import LAYERS
from dlstudy.nets.activations import NAMES, ReLUAlpha

ACTIVATIONS = tuple(NAMES.values()) + (ReLUAlpha,)


class Diagnostics(Callback):
    """Logs `diag/<layer>/...`: activation and zero statistics, how often ReLU'(0) is used, gradient norms."""

    def __init__(self, every_n_steps: int = 50, histograms: bool = True):
        if every_n_steps <= 0:
            raise ValueError(f"every_n_steps must be a positive integer, got {every_n_steps!r}")
        self.every_n_steps, self.histograms = every_n_steps, histograms
        self.active, self.stats, self.handles, self.keep = False, {}, [], False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.keep = getattr(pl_module, "compiled", False)  # hooks for the whole fit (see the module's docstring)
        self._hook(pl_module, self.keep)

    def _hook(self, pl_module: L.LightningModule, on: bool) -> None:
        """Register the hooks on every activation module (on) or remove them."""
        if on and not self.handles:
            for name, module in pl_module.named_modules():
                if isinstance(module, ACTIVATIONS) and not isinstance(module, nn.Identity):
                    self.handles.append(module.register_forward_hook(self._forward(name)))
                    self.handles.append(module.register_full_backward_hook(self._backward(name)))
        elif not on:
            for h in self.handles:
                h.remove()
            self.handles = []

    def _forward(self, name: str):
        def hook(module, inputs, output):
            if not self.active:
                return
            x, out = inputs[0].detach(), output.detach().float()
            zero_in = x == 0
            dead = (out.reshape(len(out), -1) == 0).all(0).float().mean()  # units silent on the whole batch
            self.stats[name] = {"act_mean": out.mean(), "act_std": out.std(), "zero_frac": (out == 0).float().mean(),
                                "dead_frac": dead, "preact_zero_frac": zero_in.float().mean()}
            self.stats[name]["_zero_in"] = zero_in
            if self.histograms:
                self.stats[name]["_act"] = out
        return hook

    def _backward(self, name: str):
        def hook(module, grad_input, grad_output):
            if not self.active or name not in self.stats:
                return
            zero_in = self.stats[name].pop("_zero_in")
            # Where the input is exactly 0, ReLU'(0) decides the gradient: under the chain rule only where a
            # non-zero gradient arrives to be multiplied; under the paper's rule everywhere (it writes alpha).
            used = zero_in if getattr(module, "rule", "chain") == "paper" else zero_in & (grad_output[0] != 0)
            self.stats[name]["alpha_used_frac"] = used.float().mean()
            self.stats[name]["alpha_used_count"] = used.sum()
        return hook

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        self._arm(trainer, trainer.global_step)

    def _arm(self, trainer: L.Trainer, step: int) -> None:
        """Record the forward and backward of optimizer step `step` if it is one we log."""
        self.active = step % self.every_n_steps == 0 and writer_of(trainer) is not None
        self.stats = {}
        self._hook(trainer.lightning_module, self.active or self.keep)

    def on_validation_start(self, trainer: L.Trainer, pl_module) -> None:
        self.active = False
        self._hook(pl_module, self.keep)

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        if self.active:
            self._write(trainer, pl_module)
        self._arm(trainer, trainer.global_step + 1)  # the next step may come in the same batch (dlstudy.multistep)

    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer, step = writer_of(trainer), trainer.global_step
        for name, module in pl_module.named_modules():
            # a recurrent layer has several weights (weight_ih_l0, weight_hh_l0, ...): the norm of them all
            grads = [p.grad for key, p in module.named_parameters(recurse=False)
                     if key.startswith("weight") and p.grad is not None] if isinstance(module, LAYERS) else []
            if grads:
                writer.add_scalar(f"diag/{name}/grad_norm", torch.nn.utils.get_total_norm(grads).item(), step)
        for name, stats in self.stats.items():
            act = stats.pop("_act", None)
            stats.pop("_zero_in", None)
            for key, value in stats.items():
                writer.add_scalar(f"diag/{name}/{key}", float(value), step)
            if self.histograms:
                writer.add_histogram(f"diag/{name}/activations", act.flatten()[:65536], step)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.active = self.keep = False
        self._hook(pl_module, False)
