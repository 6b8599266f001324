"""A callback the GPU tests inject: records where the weights and the batch of the first step are."""

import json
from pathlib import Path

from lightning.pytorch.callbacks import Callback


class RecordDevices(Callback):
    def __init__(self, path: str):
        self.path = Path(path)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if batch_idx == 0:
            devices = {"weights": str(next(pl_module.parameters()).device), "batch": str(batch[0].device)}
            self.path.write_text(json.dumps(devices))
