"""A submitit SLURM job stopped by a signal: requeued by rank 0, then resumed from its own folder."""

import logging
import os
import subprocess
from pathlib import Path

from dlstudy.runs import FINAL, read_status

log = logging.getLogger(__name__)


def in_submitit_job() -> bool:
    """Whether this process is a task of a SLURM job that submitit submitted (and would rerun if requeued)."""
    return os.environ.get("SUBMITIT_EXECUTOR") == "slurm" and "SLURM_JOB_ID" in os.environ


def requeued_run(out: Path) -> str | None:
    """The job folder to go on from, when this is a requeued submitit job whose run stopped before the end.

    No pid check (unlike `resume=auto`): every rank must decide alike, and rank 0 may already have
    written its own "running" status when another rank asks.
    """
    if not in_submitit_job() or int(os.environ.get("SLURM_RESTART_COUNT") or 0) == 0:
        return None
    if (out / "checkpoints" / "last.ckpt").exists() and read_status(out)["status"] not in FINAL:
        return str(out)
    return None


def requeue() -> bool:
    """Put this submitit job back in the queue (rank 0 asks), unless SLURM is already ending it.

    A job still RUNNING was signalled to stop (`scancel --signal=TERM`, the USR2 warning before its time
    limit, a preemption): requeued, submitit reruns it in the same job folder and it resumes from
    `last.ckpt`. A job cancelled or out of time is not RUNNING any more, and stays stopped.
    """
    if not in_submitit_job() or os.environ.get("SLURM_PROCID", "0") != "0":
        return False
    job = os.environ["SLURM_JOB_ID"]
    state = subprocess.run(["squeue", "--noheader", "--format=%T", f"--jobs={job}"],
                           capture_output=True, text=True, timeout=60).stdout.strip()
    if state != "RUNNING":
        return False
    result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        log.warning("could not requeue SLURM job %s: %s", job, result.stderr.strip())
    return result.returncode == 0
