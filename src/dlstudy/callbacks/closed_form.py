"""Distance of a linear model from the least-squares solution of its training data, each epoch."""

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn


class ClosedFormGap(Callback):
    """Logs `train/dist_to_lstsq` = ||(w, b) - (w*, b*)|| for a net that is one nn.Linear (linear regression)."""

    def on_fit_start(self, trainer: L.Trainer, pl_module) -> None:
        X, y = trainer.datamodule.splits["train"]
        A = torch.cat([X, torch.ones(len(X), 1)], 1).double()
        self.solution = torch.linalg.lstsq(A, y.double()).solution[:, 0]  # (F + 1,)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        linear = pl_module.net
        if not isinstance(linear, nn.Linear):
            raise ValueError("ClosedFormGap needs a net that is one nn.Linear (model=linear_regression)")
        theta = torch.cat([linear.weight[0], linear.bias]).detach().double().cpu()
        pl_module.log("train/dist_to_lstsq", float((theta - self.solution).norm()))
