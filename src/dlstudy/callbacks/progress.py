"""Lightning's Rich progress bar, drawn every N batches instead of every batch."""

from lightning.pytorch.callbacks import RichProgressBar


class ProgressBar(RichProgressBar):
    """Drawing the bar and its metrics after every batch cost about 10% of an MNIST-MLP epoch on 2 CPU
    cores (scripts/bench.py); every 10th batch, and the last, shows the same thing."""

    def __init__(self, every_n_batches: int = 10, refresh_rate: int = 4, **kwargs):
        super().__init__(refresh_rate=refresh_rate, **kwargs)
        self.every_n_batches = every_n_batches

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if (batch_idx + 1) % self.every_n_batches == 0 or batch_idx + 1 == self.total_train_batches:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
