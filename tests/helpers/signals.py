"""A callback the tests inject through the config: the process signals itself at a given step."""

import os
import signal

from lightning.pytorch.callbacks import Callback


class SignalAtStep(Callback):
    def __init__(self, step: int, signum: str = "SIGINT", rank: int | None = None):  # rank: only that DDP rank
        self.step, self.signum, self.rank = step, getattr(signal, signum), rank

    def on_train_start(self, trainer, pl_module) -> None:
        self.armed = trainer.global_step <= self.step  # not again in the resumed run

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self.armed and trainer.global_step >= self.step and self.rank in (None, trainer.global_rank):
            self.armed = False  # a batch may hold several steps (dlstudy.multistep)
            os.kill(os.getpid(), self.signum)


class RaiseAtStep(Callback):
    """A crash: an error that is not bad input, raised at a given step."""

    def __init__(self, step: int):
        self.step = step

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:  # per step, also within a group
        if trainer.global_step == self.step:  # of several steps (dlstudy.multistep)
            raise RuntimeError(f"crash at step {self.step}")
