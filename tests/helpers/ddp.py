"""A callback the DDP test injects: every rank saves its final weights."""

from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback


class SaveRankWeights(Callback):
    def __init__(self, path: str):
        self.path = Path(path)

    def on_train_end(self, trainer, pl_module) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        torch.save({k: v.cpu() for k, v in pl_module.net.state_dict().items()} | {"batches": trainer.global_step},
                   self.path / f"rank{trainer.global_rank}.pt")


class SaveRankInputs(Callback):
    """Every rank saves the inputs it evaluated in the last validation epoch and in the test epoch."""

    def __init__(self, path: str):
        self.path, self.seen = Path(path), {"val": [], "test": []}

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self.seen["val"] = []

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        if not trainer.sanity_checking:
            self.seen["val"].append(batch[0].cpu())

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        self.seen["test"].append(batch[0].cpu())

    def on_test_end(self, trainer, pl_module) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        torch.save({k: torch.cat(v) for k, v in self.seen.items()}, self.path / f"inputs{trainer.global_rank}.pt")
