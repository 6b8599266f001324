"""Callbacks the cluster tests inject: SLURM signals a job at a given step; each rank saves what it was served."""

import os
import subprocess
import time
from pathlib import Path

import torch
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.callbacks import Callback

from dlstudy.callbacks import GracefulStop, Interrupted


class ScancelAt(Callback):
    """In sweep job `job_num`, before step `step` of its first run, rank 0 has SLURM send `signal` to every task
    of the job (`scancel --signal`), then waits until the signal has reached it: the ranks stop after that batch.
    Rank 0 writes the step it stopped at to `stopped_at` in the run folder."""

    def __init__(self, step: int, job_num: int, signal: str = "TERM"):
        self.step, self.job_num, self.signal = step, job_num, signal

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if (trainer.global_step != self.step or trainer.global_rank != 0 or HydraConfig.get().job.num != self.job_num
                or int(os.environ.get("SLURM_RESTART_COUNT") or 0) > 0):
            return
        subprocess.run(["scancel", f"--signal={self.signal}", os.environ["SLURM_JOB_ID"]], check=True)
        stop = next(c for c in trainer.callbacks if isinstance(c, GracefulStop))
        deadline = time.monotonic() + 60
        while stop.signum is None and time.monotonic() < deadline:
            time.sleep(0.05)

    def on_exception(self, trainer, pl_module, exception: BaseException) -> None:
        if isinstance(exception, Interrupted) and trainer.global_rank == 0:
            (Path(trainer.default_root_dir) / "stopped_at").write_text(str(trainer.global_step))


class SaveShard(Callback):
    """Each rank saves the training inputs it was served in the first epoch, as `<path>/shard_rank<r>.pt`."""

    def __init__(self, path: str):
        self.path, self.X = Path(path), []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.current_epoch == 0:
            self.X.append(batch[0].detach().cpu())  # (B, ...)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        if trainer.current_epoch == 0 and self.X:
            torch.save(torch.cat(self.X), self.path / f"shard_rank{trainer.global_rank}.pt")
