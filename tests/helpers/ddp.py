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
