"""Classification: logits from any net, a swappable loss, accuracy and predictive entropy per stage."""

import torch
from torch import nn
from torchmetrics import MeanMetric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassCalibrationError

from dlstudy.information import entropy, entropy_of_logits
from dlstudy.models.metrics import BatchMeans
from dlstudy.models.system import OptimizerFactory, SchedulerFactory, System


class Classifier(System):
    """`Classifier(net=my_cnn, num_classes=10)` trains as it is: cross-entropy, Adam, PyTorch's init."""

    task = "classification"
    hparam_metrics = ("val/loss", "val/acc", "test/loss", "test/acc")

    def __init__(self, net: nn.Module, num_classes: int, loss: nn.Module | None = None,
                 optimizer: OptimizerFactory | None = None, scheduler: SchedulerFactory | None = None, init=None,
                 compile: bool | str = False):
        super().__init__(net, loss if loss is not None else nn.CrossEntropyLoss(), optimizer, scheduler, init, compile)
        self.save_hyperparameters("num_classes", logger=False)  # plain values only: weights_only loading
        self.num_classes = num_classes
        self.add_metrics(MetricCollection({
            "acc": MulticlassAccuracy(num_classes, average="micro", validate_args=False),  # fraction correct
            "entropy": MeanMetric(nan_strategy="disable"),  # NaN must show, not vanish
        }), train=MetricCollection({"means": BatchMeans(("acc", "entropy"))}))  # the same two, cheaply
        for stage in ("val", "test"):  # calibration keeps every confidence of the epoch: not worth it on train
            getattr(self, f"{stage}_metrics").add_metrics({"ece": MulticlassCalibrationError(num_classes, n_bins=15)})

    def check_output(self, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        if y_hat.ndim != 2 or y_hat.shape[1] != self.num_classes:
            raise ValueError(f"the net gives outputs of shape {tuple(y_hat.shape[1:])}; "
                             f"a classifier needs one logit per class ({self.num_classes})")

    def train_values(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Every step: the same accuracy and entropy as validation's, as (B, 2) columns for one cheap update."""
        return torch.stack([(y_hat.argmax(-1) == y).float(), entropy_of_logits(y_hat.float())], 1)

    def update_eval_metrics(self, stage: str, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        m = getattr(self, f"{stage}_metrics")
        p = y_hat.float().softmax(-1)  # (B, num_classes)
        m["acc"].update(y_hat, y)
        m["entropy"].update(entropy(p))
        m["ece"].update(p, y)

    def predict_step(self, batch, batch_idx: int) -> torch.Tensor:
        X = batch[0] if isinstance(batch, (list, tuple)) else batch
        return self(X).softmax(-1)  # (B, num_classes) probabilities
