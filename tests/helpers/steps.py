"""A callback the multi-step tests inject: how many Lightning batches and optimizer steps a fit took."""

import json
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class CountBatches(Callback):
    def __init__(self, path: str):
        self.path, self.batches = Path(path), 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        self.batches += 1

    def on_train_end(self, trainer, pl_module) -> None:
        self.path.write_text(json.dumps({"batches": self.batches, "steps": trainer.global_step}))
