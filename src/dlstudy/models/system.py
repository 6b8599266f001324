"""What every system shares: an injected net, loss, optimizer, scheduler and init; the step; the logs."""

from collections.abc import Callable

import lightning as L
import torch
from torch import nn
from torchmetrics import MetricCollection

from dlstudy.init import apply_init
from dlstudy.losses import check_fits
from dlstudy.multistep import carry_step_count

OptimizerFactory = Callable[..., torch.optim.Optimizer]  # e.g. functools.partial(torch.optim.SGD, lr=0.1)
SchedulerFactory = Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]


class System(L.LightningModule):
    """A net that learns: subclasses set `task`, the default loss and their metrics."""

    task: str
    hparam_metrics: tuple[str, ...]  # the final metrics a sweep compares (TensorBoard's HPARAMS tab)
    multistep = None  # set by dlstudy.multistep.MultiStep while it runs several optimizer steps per training_step

    def __init__(self, net: nn.Module, loss: nn.Module, optimizer: OptimizerFactory | None = None,
                 scheduler: SchedulerFactory | None = None, init: Callable[[nn.Module], None] | None = None,
                 compile: bool | str = False):
        super().__init__()
        check_fits(loss, self.task)
        lr = getattr(optimizer, "keywords", {}).get("lr")
        if lr is not None and not lr > 0:
            raise ValueError(f"optimizer.lr must be > 0, got {lr!r}")
        self.net, self.loss = net, loss
        self.make_optimizer = optimizer or torch.optim.Adam
        self.make_scheduler = scheduler
        apply_init(self.net, init)  # once, here, after the caller has seeded the run
        # compile: True (inductor) or a backend name. The net is compiled, not the system, and kept out
        # of the module tree, so state_dict keys and checkpoints are the same either way.
        backend = "inductor" if compile is True else compile
        self.__dict__["_run_net"] = torch.compile(self.net, backend=backend) if backend else self.net

    def add_metrics(self, metrics: MetricCollection, train: MetricCollection | None = None) -> None:
        """One copy per stage (`train_metrics`, ...), logged as `<stage>/<name>`; `train`, if given, replaces
        the training stage's copy with a cheaper collection (it is updated every step).

        Their states go into checkpoints, so a run resumed mid-epoch reports the same epoch metrics.
        """
        for stage in ("train", "val", "test"):
            chosen = train if stage == "train" and train is not None else metrics
            chosen.persistent(True)
            setattr(self, f"{stage}_metrics", chosen.clone(prefix=f"{stage}/"))

    @property
    def compiled(self) -> bool:
        """Whether the net runs compiled (`compile=`)."""
        return self._run_net is not self.net

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self._run_net(X)

    def check_batch(self, batch) -> None:
        """Raise ValueError if the net's output does not fit the loss; run before training starts."""
        X, y = batch
        with torch.no_grad():
            y_hat = self(X)
            self.check_output(y_hat, y)
            self.loss(y_hat, y)

    def check_output(self, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        raise NotImplementedError

    def train_values(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The per-sample columns (N, k) the training stage's BatchMeans averages."""
        raise NotImplementedError

    def update_metrics(self, stage: str, y_hat: torch.Tensor, y: torch.Tensor, sizes: list[int] | None = None) -> None:
        """Accumulate this batch; the epoch's values are logged once, at the end of the epoch. `sizes` (training
        only): y_hat and y hold several steps' batches of that many target values each, in step order."""
        if stage == "train":
            self.train_metrics["means"].update(self.train_values(y_hat, y), sizes)
        else:
            self.update_eval_metrics(stage, y_hat, y)

    def update_eval_metrics(self, stage: str, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        """Validation's or test's metrics, on one batch."""
        getattr(self, f"{stage}_metrics").update(y_hat, y)

    def _log_epoch_metrics(self, stage: str) -> None:
        metrics = getattr(self, f"{stage}_metrics")
        if any(m.update_called for m in metrics.values()):
            self.log_dict(metrics.compute())
        metrics.reset()

    def on_train_epoch_end(self) -> None:
        self._log_epoch_metrics("train")

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    def _step(self, batch, stage: str, log: bool = True, metrics: bool = True):
        X, y = batch
        y_hat = self(X)  # (B, num_outputs)
        loss = self.loss(y_hat, y)
        if stage != "train":
            # A float batch size: Lightning averages the ranks' sample counts in the counts' dtype, and an
            # integer mean truncates when ranks hold different counts (179 and 180 -> 179, loss off by 0.3%).
            self.log(f"{stage}/loss", loss, on_epoch=True, prog_bar=True, batch_size=float(len(y)), sync_dist=True)
        elif log and (self._trainer is None or (n := self.trainer.log_every_n_steps) and (self.global_step + 1) % n == 0):
            # Only on the steps the logger writes (Lightning's rule), as a value logged on any other step
            # would be written late; self.log costs about as much as a small net's step.
            self.log("train/loss", loss, on_step=True, prog_bar=True)
        if metrics:
            self.update_metrics(stage, y_hat.detach(), y)
        return loss, y_hat

    def training_step(self, batch, batch_idx: int) -> torch.Tensor | dict:
        if self.multistep is not None:
            return self.multistep.training_step(self, batch, batch_idx)
        return self._step(batch, "train")[0]

    def on_fit_start(self) -> None:
        self.automatic_optimization = self.multistep is None  # after a fit by multistep, the next may be Lightning's

    def on_train_start(self) -> None:
        carry_step_count(self.trainer)  # a checkpoint of the other loop counted its steps in the other counter

    def on_before_optimizer_step(self, optimizer) -> None:
        if self.multistep is not None:  # Lightning's loop clips here; in manual optimization it does not
            self.multistep.clip(self, optimizer)

    def validation_step(self, batch, batch_idx: int) -> dict:
        loss, y_hat = self._step(batch, "val")
        return {"loss": loss, "y_hat": y_hat}  # for callbacks that study the predictions

    def test_step(self, batch, batch_idx: int) -> dict:
        loss, y_hat = self._step(batch, "test")
        return {"loss": loss, "y_hat": y_hat}

    def configure_optimizers(self):
        optimizer = self.make_optimizer(self.parameters())
        if self.make_scheduler is None:
            return optimizer
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": self.make_scheduler(optimizer), "interval": "epoch"}}
