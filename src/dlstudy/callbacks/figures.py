"""Figures at the end of testing: a confusion matrix, or predictions against targets for regression."""

from typing import TYPE_CHECKING

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from torchmetrics.functional.classification import multiclass_confusion_matrix

from dlstudy.callbacks.tensorboard import writer_of

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class TestFigures(Callback):
    """Collects the test predictions and draws `test/confusion_matrix` or `test/predictions`."""

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.X, self.y, self.y_hat = [], [], []

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        X, y = batch
        self.y.append(y.cpu())
        self.y_hat.append(outputs["y_hat"].detach().float().cpu())
        if pl_module.task == "regression" and X[0].numel() == 1:  # 1-D input: keep x for the curve
            self.X.append(X.reshape(-1).cpu())

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        writer = writer_of(trainer)
        if writer is None or not self.y:
            return
        y, y_hat = torch.cat(self.y), torch.cat(self.y_hat)
        if pl_module.task == "classification":
            names = getattr(trainer.datamodule, "class_names", None)
            fig = confusion_figure(multiclass_confusion_matrix(y_hat, y, pl_module.num_classes), names)
            writer.add_figure("test/confusion_matrix", fig, trainer.global_step)
        else:
            x = torch.cat(self.X) if self.X else None
            writer.add_figure("test/predictions", regression_figure(x, y, pl_module.point(y_hat)), trainer.global_step)


def confusion_figure(cm: torch.Tensor, class_names: list[str] | None = None) -> "Figure":
    """Counts with true class on rows, predicted on columns, the axes labelled by class name when known."""
    from matplotlib.figure import Figure  # here: matplotlib takes ~0.7 s to import, and only the test stage draws

    fig = Figure(figsize=(6, 6) if class_names else (5, 5), layout="constrained")
    ax = fig.subplots()
    ax.imshow(cm, cmap="Blues")
    for i, row in enumerate(cm.tolist()):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, n, ha="center", va="center", fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", xticks=range(len(cm)), yticks=range(len(cm)))
    if class_names:
        ax.set_xticklabels(class_names, rotation=45, ha="right")
        ax.set_yticklabels(class_names)
    return fig


def regression_figure(x: torch.Tensor | None, y: torch.Tensor, y_pred: torch.Tensor) -> "Figure":
    """The fitted curve over the data for 1-D input; otherwise predicted against true."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    y, y_pred = y.reshape(-1), y_pred.reshape(-1)
    if x is not None:
        order = x.argsort()
        ax.scatter(x, y, s=6, alpha=0.5, label="target")
        ax.plot(x[order], y_pred[order], color="C1", label="prediction")
        ax.set(xlabel="x", ylabel="y")
        ax.legend()
    else:
        ax.scatter(y, y_pred, s=6, alpha=0.5)
        lo, hi = float(y.min()), float(y.max())
        ax.plot([lo, hi], [lo, hi], color="C1")
        ax.set(xlabel="target", ylabel="prediction")
    return fig
