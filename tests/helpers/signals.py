"""A callback the tests inject through the config: the process signals itself at a given step."""

import os
import signal

from lightning.pytorch.callbacks import Callback


class SignalAtStep(Callback):
    def __init__(self, step: int, signum: str = "SIGINT", rank: int | None = None):  # rank: only that DDP rank
        self.step, self.signum, self.rank = step, getattr(signal, signum), rank

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step and self.rank in (None, trainer.global_rank):
            os.kill(os.getpid(), self.signum)


class RaiseAtStep(Callback):
    """A crash: an error that is not bad input, raised at a given step."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == self.step:
            raise RuntimeError(f"crash at step {self.step}")
