"""One optimizer step without Lightning's wrappers, where they would add nothing but hook dispatch.

On one device, in 32-bit precision and without a profiler, Lightning's `manual_backward` and its
optimizer wrapper come down to calling the step hooks around `backward()` and `optimizer.step()`;
their dispatch (a profiler context and a state key per callback and hook) costs ~70 µs a step, as
much as a small net's forward. dlstudy.multistep uses this inside its groups; anything else (mixed or
half precision, DDP, a profiler) keeps Lightning's path. Tested bit for bit against Lightning's own
loop (tests/test_multistep.py).
"""

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.plugins.precision import Precision
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.strategies import SingleDeviceStrategy
from lightning.pytorch.utilities.model_helpers import is_overridden


def overrides(callback: Callback, hook: str) -> bool:
    """Whether `callback` has its own `hook` (not Callback's no-op)."""
    return getattr(type(callback), hook) is not getattr(Callback, hook)


class DirectStep:
    """`step(system, optimizer, loss)`: what `system.manual_backward(loss)` then Lightning's `optimizer.step()`
    do in that case, in their order: each hook of the callbacks that have it, then the system's; the step
    counted as Lightning counts it."""

    def __init__(self, trainer: L.Trainer, hooks: tuple[str, ...]):
        self.hooks = {h: [getattr(cb, h) for cb in trainer.callbacks if overrides(cb, h)] for h in hooks}
        # Whether a hook runs at all: a callback's, or the system's own (not LightningModule's no-op)
        self.runs = {h: bool(self.hooks[h]) or is_overridden(h, trainer.lightning_module) for h in hooks}

    @staticmethod
    def applies(trainer: L.Trainer) -> bool:
        """Whether Lightning's strategy and precision plugin add nothing to backward and step here."""
        return (type(trainer.strategy) is SingleDeviceStrategy and type(trainer.precision_plugin) is Precision
                and isinstance(trainer.profiler, PassThroughProfiler))

    def __call__(self, system: L.LightningModule, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        trainer, hooks, runs = system.trainer, self.hooks, self.runs
        progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
        previous = system._current_fx_name  # what self.log checks inside a hook: set where a hook runs
        if runs["on_before_backward"]:
            system._current_fx_name = "on_before_backward"
            for hook in hooks["on_before_backward"]:
                hook(trainer, system, loss)
            system.on_before_backward(loss)
        system.backward(loss)
        if runs["on_after_backward"]:
            system._current_fx_name = "on_after_backward"
            for hook in hooks["on_after_backward"]:
                hook(trainer, system)
            system.on_after_backward()
        progress.increment_ready()
        system._current_fx_name = "on_before_optimizer_step"  # Lightning calls these inside step's closure
        for hook in hooks["on_before_optimizer_step"]:
            hook(trainer, system, optimizer)
        system.on_before_optimizer_step(optimizer)
        system._current_fx_name = previous
        optimizer.step()
        progress.increment_completed()  # global_step + 1
