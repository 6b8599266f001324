"""Stop a run cleanly: on a diverged loss, and on SIGTERM / SIGINT with a resumable checkpoint."""

import math
import signal
from pathlib import Path

import lightning as L
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
    """Checks every training loss; the first NaN or infinity stops the run, naming the step and the lr."""

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        value = float(loss)
        if math.isfinite(value):
            return
        lr = trainer.optimizers[0].param_groups[0]["lr"] if trainer.optimizers else None
        message = (f"training diverged: loss = {value} at step {trainer.global_step} (epoch {trainer.current_epoch}); "
                   f"the learning rate (lr = {lr}) is the likely cause, try a smaller one")
        if (writer := writer_of(trainer)) is not None:
            writer.add_scalar("status/diverged", 1.0, trainer.global_step)
            writer.add_text("status", message, trainer.global_step)
            writer.flush()
        raise Diverged(message)


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
