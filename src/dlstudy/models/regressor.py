"""Regression: any net, a swappable loss, MSE / MAE / R^2 of the point prediction per stage."""

import torch
from torch import nn
from torchmetrics import MeanAbsoluteError, MeanSquaredError, MetricCollection, R2Score

from dlstudy.models.metrics import RegressionMeans
from dlstudy.models.system import OptimizerFactory, SchedulerFactory, System


class Regressor(System):
    """Linear regression is `Regressor(nn.Linear(d, 1))`; an MLP regressor is `Regressor(MLP(...))`."""

    task = "regression"
    hparam_metrics = ("val/loss", "val/mse", "test/loss", "test/mse", "test/r2")

    def __init__(self, net: nn.Module, loss: nn.Module | None = None, optimizer: OptimizerFactory | None = None,
                 scheduler: SchedulerFactory | None = None, init=None, compile: bool | str = False):
        super().__init__(net, loss if loss is not None else nn.MSELoss(), optimizer, scheduler, init, compile)
        self.outputs_per_target = getattr(self.loss, "outputs_per_target", 1)
        # Training updates every step: the same three numbers from one cheap update (tested against torchmetrics)
        self.add_metrics(MetricCollection({"mse": MeanSquaredError(), "mae": MeanAbsoluteError(), "r2": R2Score()}),
                         train=MetricCollection({"means": RegressionMeans()}))

    def point(self, y_hat: torch.Tensor) -> torch.Tensor:
        """The prediction the metrics score (a Gaussian head's mean, else the output itself)."""
        point = getattr(self.loss, "point", None)
        return point(y_hat) if point else y_hat

    def check_output(self, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        want = y.shape[-1] * self.outputs_per_target
        if y_hat.ndim != 2 or y_hat.shape[-1] != want:
            raise ValueError(f"loss={type(self.loss).__name__} reads {self.outputs_per_target} output(s) per "
                             f"target: the net must give {want}, it gives {tuple(y_hat.shape[1:])}")

    def train_values(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return RegressionMeans.values(self.point(y_hat).flatten(), y.flatten())  # (B*T, 4)

    def update_eval_metrics(self, stage: str, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        super().update_eval_metrics(stage, self.point(y_hat).flatten(), y.flatten())  # (B*T,)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        X = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self.point(self(X))
