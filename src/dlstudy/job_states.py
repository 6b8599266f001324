"""SLURM job states for submitit where `sacct` has no accounting database to read: asked of `squeue`."""

import logging
import subprocess
import time

from submitit.slurm.slurm import SlurmInfoWatcher

log = logging.getLogger(__name__)


def accounting_enabled() -> bool:
    """Whether the cluster keeps an accounting database, the only thing `sacct` (submitit's job watcher) reads."""
    try:
        config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot tell: leave submitit as it is
    return "accounting_storage/none" not in config


class QueueWatcher(SlurmInfoWatcher):
    """Job states from `squeue`, where `sacct` has no database and fails on every call ("Bypassing sacct error").

    slurmctld keeps a finished job's state for MinJobAge (300 s by default). A job it no longer knows is
    GONE, a final state: a job that died without a result is then reported, not waited for forever.
    Any other squeue failure is logged, as submitit logs sacct's. Only final states count as done: squeue
    also shows passing ones (CONFIGURING, SIGNALING, REQUEUE_HOLD, ...) that sacct does not.
    """

    FINAL = {"BOOT_FAIL", "CANCELLED", "COMPLETED", "DEADLINE", "FAILED", "GONE", "NODE_FAIL", "OUT_OF_MEMORY",
             "REVOKED", "TIMEOUT"}

    def is_done(self, job_id: str, mode: str = "standard") -> bool:
        return self.get_state(job_id, mode=mode).upper() in self.FINAL

    def _make_command(self) -> list[str] | None:
        ids = sorted({x.split("_")[0] for x in self._registered - self._finished})
        return ["squeue", "--noheader", "--states=all", "--format=%i|%T", f"--jobs={','.join(ids)}"] if ids else None

    def update(self) -> None:
        command = self._make_command()
        if command is None:
            return
        self._num_calls += 1
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode == 0 or "Invalid job id" in result.stderr:  # every job asked for has expired
            info = self.read_info("JobID|State\n" + result.stdout)
            gone = {job: {"JobID": job, "State": "GONE"} for job in self._registered - self._finished}
            self._info_dict.update(gone | info)
        else:
            log.warning("squeue failed (%s); job states may be out of date", result.stderr.strip())
        self._last_status_check = time.time()
        for job_id in self._registered - self._finished:
            if self.is_done(job_id, mode="cache"):
                self._finished.add(job_id)
