"""H(target), cross-entropy and KL(target || prediction) on the validation set and on the training set, each epoch."""

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.data.batches import BatchLoader
from dlstudy.information import cross_entropy, entropy, kl_divergence, smoothed_targets


class InformationTerms(Callback):
    """Logs `<stage>/target_entropy` H(p), `<stage>/cross_entropy` CE(p, q) and `<stage>/kl` KL(p || q) for
    stage `val` (the validation pass) and `train` (the whole training set, in eval mode, after each epoch).

    CE = H + KL: training can only shrink the KL part; H(p) of smoothed targets is a floor it cannot pass.
    """

    def __init__(self, batch_size: int = 1024):
        self.batch_size = batch_size

    @staticmethod
    def terms(pl_module, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Sums over the batch of (H, CE, KL) for the targets the loss trains towards."""
        log_q = y_hat.float().log_softmax(-1)  # (B, K)
        eps = getattr(pl_module.loss, "label_smoothing", 0.0)  # 0 for hard targets
        p = smoothed_targets(y, log_q.shape[-1], eps)  # (B, K)
        return torch.stack([entropy(p).sum(), cross_entropy(p, log_q).sum(), kl_divergence(p, log_q).sum()]).cpu()

    @staticmethod
    def write(pl_module, stage: str, sums: torch.Tensor, n: int) -> None:
        h, ce, kl = (sums / n).tolist()
        pl_module.log_dict({f"{stage}/target_entropy": h, f"{stage}/cross_entropy": ce, f"{stage}/kl": kl})

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module) -> None:
        self.sums, self.n = torch.zeros(3), 0

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int, dataloader_idx=0) -> None:
        self.sums += self.terms(pl_module, outputs["y_hat"], batch[1])
        self.n += len(batch[1])

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if self.n and not trainer.sanity_checking:
            self.write(pl_module, "val", self.sums, self.n)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        dm = trainer.datamodule
        sums, was_training = torch.zeros(3), pl_module.training
        pl_module.eval()
        with torch.no_grad():
            for batch in BatchLoader(*dm.splits["train"], batch_size=self.batch_size):
                X, y = dm.on_after_batch_transfer(tuple(t.to(pl_module.device) for t in batch), 0)
                sums += self.terms(pl_module, pl_module(X), y)
        pl_module.train(was_training)
        self.write(pl_module, "train", sums, len(dm.splits["train"][1]))
