"""H(target), cross-entropy and KL(target || prediction) on the validation set, each epoch."""

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from dlstudy.information import cross_entropy, entropy, kl_divergence, smoothed_targets


class InformationTerms(Callback):
    """Logs `val/target_entropy`, `val/cross_entropy` and `val/kl`; CE = H + KL, and CE is the loss."""

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module) -> None:
        self.sums, self.n = torch.zeros(3), 0

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int, dataloader_idx=0) -> None:
        y = batch[1]
        log_q = outputs["y_hat"].float().log_softmax(-1)  # (B, K)
        eps = getattr(pl_module.loss, "label_smoothing", 0.0)  # 0 for hard targets
        p = smoothed_targets(y, log_q.shape[-1], eps)
        terms = torch.stack([entropy(p).sum(), cross_entropy(p, log_q).sum(), kl_divergence(p, log_q).sum()])
        self.sums += terms.cpu()
        self.n += len(y)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module) -> None:
        if self.n:
            h, ce, kl = (self.sums / self.n).tolist()
            pl_module.log_dict({"val/target_entropy": h, "val/cross_entropy": ce, "val/kl": kl})
