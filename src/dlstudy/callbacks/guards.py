"""Stop a run cleanly: on a diverged loss, and on SIGTERM / SIGINT / SIGUSR2 with a resumable checkpoint."""

import math
import signal
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from dlstudy.callbacks.tensorboard import writer_of


class Diverged(RuntimeError):
    """The training loss became NaN or infinite, or exploded past a multiple of its starting value."""


class Interrupted(BaseException):
    """SIGTERM, SIGINT or SIGUSR2 arrived; `checkpoints/last.ckpt` holds the state after the last finished batch (after
    the epoch's end, where that batch was the epoch's last)."""

    def __init__(self, signum: int, ckpt_path: str):
        super().__init__(f"stopped by {signal.Signals(signum).name}; resume from {ckpt_path}")
        self.exit_code = 128 + signum


class DivergenceGuard(Callback):
    """Stops the run at the first training loss that is NaN, infinite, or above `max_loss_factor` times the
    run's first loss (an explosion that stays finite), naming its step and the learning rate. `None` checks
    only for NaN and infinity. The first loss is kept in checkpoints, so a resumed run keeps its yardstick.

    Reading a loss on the host waits for the device. On the CPU that is free and every loss is read as it
    comes; on an accelerator the losses stay on the device and are read together every `every_n_steps`
    steps (50 unless set), and always before validation, a checkpoint or the end of training, so no
    diverged weights are validated or saved and the message still names the first bad step. A batch's
    loss may be a vector of consecutive steps' losses, the first at the batch's start (dlstudy.multistep).
    """

    def __init__(self, every_n_steps: int | None = None, max_loss_factor: float | None = 1e4):
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        if max_loss_factor is not None and not max_loss_factor > 1:
            raise ValueError(f"max_loss_factor must be > 1 (or null), got {max_loss_factor}")
        self.every_n_steps, self.max_loss_factor = every_n_steps, max_loss_factor
        self.first_loss: float | None = None
        self._pending: list[tuple[int, int, torch.Tensor]] = []  # (first step, epoch, detached loss or losses)
        self._step = 0
        self._count = 0  # steps pending

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        self._step = trainer.global_step  # the step the loss is logged at

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if loss is None:  # a step the module chose to skip
            return
        self._pending.append((self._step, trainer.current_epoch, loss.detach()))
        self._count += loss.numel()
        every = self.every_n_steps or (1 if loss.device.type == "cpu" else 50)
        if self._count >= every:
            self.check(trainer)

    def check(self, trainer: L.Trainer) -> None:
        """Read the pending losses (one wait for the device); raise Diverged at the first bad one."""
        if not self._pending:
            return
        pending, self._pending, self._count = self._pending, [], 0
        losses = [loss.reshape(-1) for _, _, loss in pending]
        values = torch.cat(losses).tolist() if len(losses) > 1 else losses[0].tolist()  # one read either way
        if self.first_loss is None and math.isfinite(values[0]):
            self.first_loss = values[0]
        i = next((i for i, v in enumerate(values) if self.diverged(v)), None)
        if i is None:
            return
        step, epoch = [(s + j, e) for s, e, loss in pending for j in range(loss.numel())][i]
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        why = "" if not math.isfinite(values[i]) else \
            f", more than {self.max_loss_factor:g} times the first loss ({self.first_loss:.4g})"
        message = (f"training diverged: loss = {values[i]:.6g}{why} at step {step} (epoch {epoch}); "
                   f"the learning rate (lr = {lr}) is the likely cause, try a smaller one")
        if (writer := writer_of(trainer)) is not None:
            writer.add_scalar("status/diverged", 1.0, step)
            writer.add_text("status", message, step)
            writer.flush()
        raise Diverged(message)

    def diverged(self, loss: float, first: float | None = None) -> bool:
        """Whether a training loss means divergence; `first` stands in for the run's first loss until the guard
        has read it (dlstudy.multistep asks within the first group of steps)."""
        if not math.isfinite(loss):
            return True
        first = self.first_loss if self.first_loss is not None else first
        # a multiple of a loss that starts at or below zero (a Gaussian NLL, say) means nothing: NaN/inf only
        return self.max_loss_factor is not None and first is not None and first > 0 and loss > self.max_loss_factor * first

    def state_dict(self) -> dict:
        return {"first_loss": self.first_loss}

    def load_state_dict(self, state_dict: dict) -> None:
        self.first_loss = state_dict.get("first_loss")

    def on_validation_start(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module, checkpoint: dict) -> None:
        self.check(trainer)  # raising here leaves the file unwritten

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)


class GracefulStop(Callback):
    """On SIGTERM, SIGINT or SIGUSR2: finish the current batch, write `last.ckpt` atomically, then stop.

    SIGUSR2 is the warning SLURM sends before a time limit (submitit asks for it). Under DDP the ranks
    agree after every batch whether any of them was signalled, so all stop after the same batch. A signal
    in an epoch's last batch (or group) lets the epoch end first, validation and epoch metrics included; one
    in a batch that a mid-epoch validation follows (val_check_interval) lets that validation run, and the
    checkpoint is written at its end, where Lightning resumes from a validation's checkpoint. A checkpoint
    written before them would resume without them.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}
        self._defer: str | None = None  # "epoch", "validation", or "raise" once the validation's checkpoint is written

    def on_train_start(self, trainer: L.Trainer, pl_module) -> None:
        self.signum, self._defer = None, None
        self._previous = {s: signal.signal(s, self._note) for s in self.SIGNALS}

    def _note(self, signum, frame) -> None:
        self.signum = signum

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        stop = self.signum is not None
        if trainer.world_size > 1:  # one all-reduce a step (Lightning already broadcasts one of its own)
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if not stop or self._defer == "epoch":
            return
        progress = trainer.fit_loop.epoch_loop.batch_progress
        if progress.is_last_batch or batch_idx + 1 >= trainer.num_training_batches:
            self._defer = "epoch"  # the epoch ends as usual (validation, epoch hooks), then the fit stops
            return
        if self._defer is None and validates_next(trainer):
            self._defer = "validation"
            return
        self._stop(trainer)  # also where a deferred validation did not come (a time-based interval)

    def on_validation_end(self, trainer: L.Trainer, pl_module) -> None:
        if self._defer != "validation" or trainer.sanity_checking:
            return
        # The moment ModelCheckpoint saves at, which Lightning's resume expects; but after ModelCheckpoint, whose
        # state (best score, best and last paths) the checkpoint holds. Lightning calls checkpoint callbacks last,
        # so theirs runs here first: when Lightning calls it again it finds this step saved, or decides as before.
        path = self._path(trainer)
        for checkpoint in trainer.checkpoint_callbacks:
            if isinstance(checkpoint, ModelCheckpoint):
                checkpoint.on_validation_end(trainer, pl_module)
                if checkpoint.save_last and checkpoint.dirpath and Path(path).parent == Path(checkpoint.dirpath):
                    checkpoint.last_model_path = path  # its last.ckpt, not one to keep apart
        trainer.save_checkpoint(path)
        self._defer = "raise"

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        if self._defer == "raise":
            self._interrupt(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        # Not at the batch's end: with should_stop set there, Lightning's logger writes that step's metrics too
        trainer.should_stop = trainer.should_stop or self._defer == "epoch"

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module) -> None:
        if self._defer == "epoch":
            self._defer = None  # Lightning went on (min_epochs not reached): stop after the next batch

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        if self._defer == "epoch":
            self._stop(trainer)
        elif self._defer == "raise":  # the fit ended right after the validation (max_steps)
            self._interrupt(trainer)

    @staticmethod
    def _path(trainer: L.Trainer) -> str:
        ckpt_dir = Path(trainer.checkpoint_callback.dirpath if trainer.checkpoint_callback else
                        Path(trainer.default_root_dir) / "checkpoints")
        return str(ckpt_dir / "last.ckpt")

    def _stop(self, trainer: L.Trainer) -> None:
        trainer.save_checkpoint(self._path(trainer))
        self._interrupt(trainer)

    def _interrupt(self, trainer: L.Trainer) -> None:
        raise Interrupted(self.signum or signal.SIGTERM, self._path(trainer))  # a rank not signalled: as if TERM

    def teardown(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}


def validates_next(trainer: L.Trainer) -> bool:
    """Whether Lightning runs a validation right after the current training batch (val_check_interval), by its
    own rule (a private method: Lightning has no public one)."""
    fit_loop = trainer.fit_loop
    return bool(fit_loop.epoch_loop._should_check_val_fx(fit_loop._data_fetcher))
