"""Injected by scripts/bench.py into a real `dlstudy-train` process: when did the first training step start,
what was the process's peak resident memory, and how long did its training steps take?"""

import atexit
import json
import resource
import time
from pathlib import Path

from lightning.pytorch.callbacks import Callback


def peak_bytes() -> int:
    """This program's peak resident memory. VmHWM belongs to the program since its exec; rusage's maxrss would
    also count the pages the launching process shared with it between fork and exec."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # not Linux
    kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(kb) * 1024


class StartupProbe(Callback):
    """Writes `<path>` (time of the first training step) and, at exit, `<path>.peak` (peak bytes)."""

    def __init__(self, path: str):
        self.path = Path(path)
        atexit.register(lambda: self.path.with_suffix(".peak").write_text(str(peak_bytes())))

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx: int) -> None:
        if trainer.global_step == 0 and not self.path.exists():
            self.path.write_text(repr(time.time()))


class TrainTimer(Callback):
    """Writes `<path>` (JSON): seconds spent in training epochs, from each epoch's start to its last batch's end,
    less any validation inside the epoch, and the optimizer steps taken. Validation and test are not timed."""

    def __init__(self, path: str):
        self.path, self.seconds, self.start, self.paused = Path(path), 0.0, None, 0.0

    def _now(self, pl_module) -> float:
        if pl_module.device.type == "cuda":
            import torch

            torch.cuda.synchronize(pl_module.device)
        return time.perf_counter()

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.start, self.paused = self._now(pl_module), 0.0

    def on_validation_start(self, trainer, pl_module) -> None:
        self.val_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        self.paused += time.perf_counter() - self.val_start

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        if batch_idx + 1 == trainer.num_training_batches and self.start is not None:
            self.seconds += self._now(pl_module) - self.start - self.paused
            self.start = None

    def on_train_end(self, trainer, pl_module) -> None:
        self.path.write_text(json.dumps({"seconds": self.seconds, "steps": trainer.global_step}))
