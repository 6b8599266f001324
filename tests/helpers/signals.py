"""A callback the tests inject through the config: the process signals itself at a given step."""

import os
import signal

from lightning.pytorch.callbacks import Callback


class SignalAtStep(Callback):
    def __init__(self, step: int, signum: str = "SIGINT"):
        self.step, self.signum = step, getattr(signal, signum)

    def on_train_start(self, trainer, pl_module) -> None:
        self.armed = trainer.global_step <= self.step  # not again in the resumed run

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if self.armed and trainer.global_step >= self.step:  # a batch may hold several steps (dlstudy.multistep)
            self.armed = False
            os.kill(os.getpid(), self.signum)
