"""Test accuracy after every epoch against training wall time: what a learner waits for to reach a target."""

import time

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class TestCurve(Callback):
    """Logs `curve/test_acc` and `curve/train_s` (seconds since training started, its own time left out).

    Runs at the end of each epoch's validation, so the model is in eval mode and no augmentation is
    applied. Only reported: checkpoints are still chosen on validation data, never on the test set.
    """

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start, self.own = time.perf_counter(), 0.0

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not hasattr(self, "start"):
            return
        now = time.perf_counter()
        dm, correct, total = trainer.datamodule, 0, 0
        with torch.no_grad():
            for i, batch in enumerate(dm.test_dataloader()):
                X, y = dm.on_after_batch_transfer(pl_module.transfer_batch_to_device(batch, pl_module.device, 0), 0)
                correct += int((pl_module(X).argmax(-1) == y).sum())  # (B,) -> count
                total += len(y)
        pl_module.log_dict({"curve/test_acc": correct / total, "curve/train_s": now - self.start - self.own})
        self.own += time.perf_counter() - now
