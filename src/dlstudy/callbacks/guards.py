"""Stop a run cleanly: on a diverged loss, and on SIGTERM / SIGINT with a resumable checkpoint."""

import math
import signal
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.callbacks.tensorboard import writer_of


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived; `checkpoints/last.ckpt` holds the state after the last finished batch."""

    def __init__(self, signum: int, ckpt_path: str):
        super().__init__(f"stopped by {signal.Signals(signum).name}; resume from {ckpt_path}")
        self.exit_code = 128 + signum


class DivergenceGuard(Callback):
    """Stops the run at the first NaN or infinite training loss, naming its step and the learning rate.

    Reading a loss on the host waits for the device. On the CPU that is free and every loss is read as it
    comes; on an accelerator the losses stay on the device and are read together every `every_n_steps`
    steps (50 unless set), and always before validation, a checkpoint or the end of training, so no
    diverged weights are validated or saved and the message still names the first bad step. A batch's
    loss may be a vector of consecutive steps' losses, the first at the batch's start (dlstudy.multistep).
    """

    def __init__(self, every_n_steps: int | None = None):
        if every_n_steps is not None and every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
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
        i = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if i is None:
            return
        step, epoch = [(s + j, e) for s, e, loss in pending for j in range(loss.numel())][i]
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        message = (f"training diverged: loss = {values[i]} at step {step} (epoch {epoch}); "
                   f"the learning rate (lr = {lr}) is the likely cause, try a smaller one")
        if (writer := writer_of(trainer)) is not None:
            writer.add_scalar("status/diverged", 1.0, step)
            writer.add_text("status", message, step)
            writer.flush()
        raise Diverged(message)

    def on_validation_start(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module, checkpoint: dict) -> None:
        self.check(trainer)  # raising here leaves the file unwritten

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)

    def on_train_end(self, trainer: L.Trainer, pl_module) -> None:
        self.check(trainer)


class GracefulStop(Callback):
    """On SIGTERM or SIGINT: finish the current batch, write `last.ckpt` atomically, then stop."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signum: int | None = None
        self._previous: dict = {}

    def on_train_start(self, trainer: L.Trainer, pl_module) -> None:
        self.signum = None
        self._previous = {s: signal.signal(s, self._note) for s in self.SIGNALS}

    def _note(self, signum, frame) -> None:
        self.signum = signum

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if self.signum is None:
            return
        ckpt_dir = Path(trainer.checkpoint_callback.dirpath if trainer.checkpoint_callback else
                        Path(trainer.default_root_dir) / "checkpoints")
        path = str(ckpt_dir / "last.ckpt")
        trainer.save_checkpoint(path)
        raise Interrupted(self.signum, path)

    def teardown(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        self._previous = {}
