"""What a run costs: the net's parameter count and the seconds of each training epoch."""

import time

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.nets import count_parameters


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Cost(Callback):
    """Logs `cost/params` once and `cost/epoch_s` each epoch: first batch start to last batch end, so the
    validation that Lightning runs before `on_train_epoch_end` is not counted."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.logger is not None:
            trainer.logger.log_metrics({"cost/params": count_parameters(pl_module.net)}, step=0)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start = self.end = None

    def on_train_batch_start(self, trainer: L.Trainer, pl_module, batch, batch_idx: int) -> None:
        if self.start is None:
            _sync(pl_module.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        _sync(pl_module.device)
        self.end = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.start is not None and self.end is not None and trainer.logger is not None:
            trainer.logger.log_metrics({"cost/epoch_s": self.end - self.start}, step=trainer.current_epoch)
