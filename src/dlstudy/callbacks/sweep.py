"""A Hydra callback: the one-line count of how a sweep's jobs ended."""

import logging
from collections import Counter
from pathlib import Path

from hydra.experimental.callback import Callback

from dlstudy.runs import read_status

log = logging.getLogger(__name__)


def count(sweep_dir: Path) -> Counter:
    return Counter(read_status(job.parent)["status"] for job in sweep_dir.glob("*/.hydra"))


class SweepSummary(Callback):
    def on_multirun_end(self, config, **kwargs) -> None:
        c = count(Path(config.hydra.sweep.dir))
        line = f"sweep {config.hydra.sweep.dir}: {c['finished']} finished, {c['diverged']} diverged, {c['failed']} failed"
        others = sum(c.values()) - c["finished"] - c["diverged"] - c["failed"]
        print(line + (f", {others} other" if others else ""), flush=True)
