"""Injected by scripts/bench.py into a real `dlstudy-train` process: when did the first training step start?"""

import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class FirstStepTime(Callback):
    def __init__(self, path: str):
        self.path = Path(path)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == 0 and not self.path.exists():
            self.path.write_text(repr(time.time()))
