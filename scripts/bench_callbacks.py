"""Injected by scripts/bench.py into a real `dlstudy-train` process: when did the first training step start,
and what was the process's peak resident memory?"""

import atexit
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
