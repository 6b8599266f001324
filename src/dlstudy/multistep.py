"""Several optimizer steps per Lightning step: one `training_step` trains on K batches (Keras' steps_per_execution).

Lightning's loop costs about as much per batch as a small net's whole step (hooks of every callback,
closures, progress, logging). Here the train loader serves K batches at a time, as one gather of
K x batch_size rows, and the system takes K optimizer steps on them in manual optimization, each
through Lightning's optimizer wrapper (so `global_step` counts them, `on_before_optimizer_step`
fires per step, and mixed precision works as in Lightning's own loop). What happens per step
in Lightning's loop happens here at the same step: `train/loss` is written at the steps the logger
writes, the schedulers step, gradients are clipped, and a group never crosses a validation point,
`max_steps` or the end of an epoch. Where that cannot be kept (gradient accumulation, a plateau
scheduler, several optimizers, DDP, a loader that is not dlstudy's, time-based validation) the run keeps
Lightning's own loop. docs/multistep.md says what a callback author must know.
"""

import math
import warnings

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, Checkpoint
from lightning.pytorch.utilities.model_helpers import is_overridden

from dlstudy.callbacks.guards import DivergenceGuard
from dlstudy.data.base import InMemoryDataModule
from dlstudy.direct_step import DirectStep, overrides


STEP_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step", "on_before_zero_grad")


class MultiStep(Callback):
    """Up to `steps` optimizer steps per Lightning step (1: Lightning's own loop); must be the first callback."""

    def __init__(self, steps: int = 64):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        self.steps = steps
        self.k = 1  # batches per Lightning batch in this fit
        self._restore: dict = {}
        self.part = None  # the (X, y) of the step being taken inside a group, for callbacks that need it
        self.direct = None  # a DirectStep where Lightning's wrappers would add nothing (dlstudy.direct_step)

    def setup(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        if stage == "fit" and trainer.callbacks[0] is not self:
            raise ValueError("MultiStep must be the first callback: it sets the step count other callbacks read")

    def on_fit_start(self, trainer: L.Trainer, pl_module) -> None:
        self.k = self._plan(trainer, pl_module)
        if self.k > 1:
            pl_module.automatic_optimization = False  # after Lightning's checks: clipping is done here
            pl_module.multistep = self
            # Inside a group only the per-step hooks run; Lightning calls them on every callback, at a few µs
            # each (a profiler context, a state key), so the group's loop offers them to those that have them.
            self.step_callbacks = [cb for cb in trainer.callbacks if any(overrides(cb, h) for h in STEP_HOOKS)]
            self.direct = DirectStep(trainer, STEP_HOOKS) if DirectStep.applies(trainer) else None
            # Lightning's own clipping does nothing without a clip value; a system's override is called regardless
            self.clips = bool(trainer.gradient_clip_val) or is_overridden("configure_gradient_clipping", pl_module)
            guards = [cb for cb in trainer.callbacks if isinstance(cb, DivergenceGuard)]
            self.diverged = guards[0].diverged if guards else \
                (lambda v, first: not math.isfinite(v))  # the guard's rule: stop where Lightning's loop would

    def _plan(self, trainer: L.Trainer, pl_module) -> int:
        """The group size K for this fit, and the Trainer's batch counts translated into groups."""
        dm = trainer.datamodule
        interval = trainer.val_check_interval
        if (self.steps == 1 or not isinstance(dm, InMemoryDataModule) or not hasattr(pl_module, "multistep")
                or trainer.world_size > 1 or len(trainer.optimizers) != 1 or trainer.accumulate_grad_batches != 1
                or any(c.reduce_on_plateau for c in trainer.lr_scheduler_configs)
                or not isinstance(interval, (int, float))
                or (isinstance(interval, int) and trainer.check_val_every_n_epoch is None)):
            return 1
        loader = dm.train_dataloader()
        batches, limit = loader.num_batches, trainer.limit_train_batches
        limit = min(batches, limit) if isinstance(limit, int) else int(batches * limit)
        if limit < 1:
            return 1
        val_every = interval if isinstance(interval, int) else max(1, int(limit * interval)) if interval < 1.0 else 0
        if val_every >= limit:  # an int interval of a whole epoch: kept as Lightning's loop reads it
            return 1
        # Batch counts a group must not cross: validation points, and the batches after the last one (Lightning
        # counts groups to the next validation: a short last group must not reach it); max_steps in its epoch.
        every = [n for n in [val_every, val_every and limit % val_every, max(0, trainer.max_steps) % limit] if n]
        every += [n for cb in trainer.callbacks if isinstance(cb, Checkpoint)
                  if (n := getattr(cb, "_every_n_train_steps", 0))]
        k = max(k for k in range(1, min(self.steps, limit) + 1) if all(n % k == 0 for n in every))
        if k == 1:
            return 1
        self._restore = {"limit_train_batches": trainer.limit_train_batches, "val_check_interval": interval}
        dm.train_steps, dm.train_limit = k, limit
        trainer.limit_train_batches = 1.0  # the loader stops the epoch itself
        if limit >= trainer.log_every_n_steps:  # Lightning would compare log_every_n_steps with the groups
            warnings.filterwarnings("ignore", message="The number of training batches .* logging interval")
        if val_every:  # in groups, as a fraction: ModelCheckpoint and EarlyStopping read `== 1.0` as "once an epoch"
            trainer.val_check_interval = (val_every // k + 0.5) / -(-limit // k)
        self.batch_size = loader.batch_size
        return k

    def on_fit_end(self, trainer: L.Trainer, pl_module) -> None:
        self.teardown(trainer, pl_module, "fit")

    def teardown(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        if stage != "fit" or self.k == 1:
            return
        pl_module.multistep = None  # still in manual optimization, so trainer.global_step stays right after the fit
        trainer.datamodule.train_steps, trainer.datamodule.train_limit = 1, None
        for key, value in self._restore.items():
            setattr(trainer, key, value)
        self.k = 1

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        if self.k == 1:
            return
        n = -(-len(batch[1]) // self.batch_size)
        if trainer.max_steps >= 0:
            n = min(n, trainer.max_steps - trainer.global_step)
        self.n = n
        # Lightning counts one batch per group: make it count steps. During the group every logger call
        # sees its last step, where Lightning's loop would write them; after it, Lightning adds the one.
        trainer.fit_loop.epoch_loop._batches_that_stepped = trainer.global_step + n - 1

    def training_step(self, system, batch, batch_idx: int) -> dict:
        """K optimizer steps, one per batch of the group; returns their losses, (K,), in step order."""
        trainer = system.trainer
        opt = system.optimizers()
        X, y = batch
        B, first, on_cpu = self.batch_size, trainer.global_step, y.device.type == "cpu"
        losses, outputs, callbacks, trainer.callbacks = [], [], trainer.callbacks, self.step_callbacks
        try:
            for j, part in zip(range(self.n), zip(X.split(B), y.split(B))):  # views, made in two calls
                self.part = part  # callbacks may read it
                loss, y_hat = system._step(part, "train", log=False, metrics=False)
                outputs.append(y_hat.detach())
                opt.zero_grad()
                if self.direct:
                    self.direct(system, opt.optimizer, loss)
                else:
                    system.manual_backward(loss)
                    opt.step()  # Lightning's wrapper: on_before_optimizer_step hooks, then global_step + 1
                self._step_schedulers(system, "step", batch_idx * self.k + j)
                losses.append(loss.detach())
                if on_cpu:  # a free read on the CPU: stop where Lightning's loop would (no host sync elsewhere)
                    run_first = float(losses[0]) if first == 0 else None  # until the guard has read the run's first
                    if self.diverged(float(losses[-1]), run_first):
                        break
        finally:
            trainer.callbacks, self.part = callbacks, None  # the group's tensors are not kept past it
        # The training metrics of the steps taken, in one update that adds each step's sums in turn (as
        # Lightning's loop would, to the last bit): per step, they cost about as much as a small net's forward.
        taken = y[:len(outputs) * B]
        system.update_metrics("train", torch.cat(outputs), taken, sizes=[t.numel() for t in taken.split(B)])
        losses = torch.stack(losses)  # (n,) no host sync on an accelerator
        self._write(system, first, losses)
        if batch_idx + 1 == trainer.num_training_batches or trainer.fit_loop.epoch_loop.batch_progress.is_last_batch:
            self._step_schedulers(system, "epoch", trainer.current_epoch)
        return {"loss": losses}

    def _step_schedulers(self, system, interval: str, index: int) -> None:
        """As Lightning's loop: after the step of batch `index` of the epoch, or at the epoch's last batch."""
        for config in system.trainer.lr_scheduler_configs:
            if config.interval == interval and (index + 1) % config.frequency == 0:
                system.lr_scheduler_step(config.scheduler, None)

    def _write(self, system, first: int, losses: torch.Tensor) -> None:
        """`train/loss` at the steps the logger writes (up to the first non-finite one, as the guard stops there)."""
        trainer = system.trainer
        system.log("train/loss", losses[-1], prog_bar=True, logger=False)  # the progress bar's copy
        n = trainer.log_every_n_steps
        steps = [s for s in range(first, first + len(losses)) if n and (s + 1) % n == 0]
        if not steps or not trainer.loggers:
            return
        values = losses.tolist()  # one read, after the K steps
        for s in steps:
            run_first = values[0] if first == 0 else None
            if any(self.diverged(v, run_first) for v in values[:s - first + 1]):  # the guard stops before writing
                break
            for logger in trainer.loggers:
                logger.log_metrics({"train/loss": values[s - first], "epoch": trainer.current_epoch}, step=s)
        for logger in trainer.loggers:
            logger.save()

    def clip(self, system, optimizer) -> None:
        """Gradient clipping as the Trainer is set, at the point Lightning's loop clips (after the hooks)."""
        if self.clips:  # (~10 µs a step, a small net's forward, to find there is nothing to clip)
            trainer = system.trainer
            system.configure_gradient_clipping(optimizer, trainer.gradient_clip_val, trainer.gradient_clip_algorithm)


def carry_step_count(trainer: L.Trainer) -> None:
    """Resuming a checkpoint of the other loop (Lightning's own, or multistep): its optimizer steps were counted
    by the other of Lightning's two counters; start both at the larger, so `global_step` goes on from there."""
    loop = trainer.fit_loop.epoch_loop
    counters = (loop.automatic_optimization.optim_progress.optimizer.step.total,
                loop.manual_optimization.optim_step_progress.total)
    steps = max(c.completed for c in counters)
    for c in counters:
        c.ready = c.completed = steps
