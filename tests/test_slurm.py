"""The cluster path, run for real on a local one-node SLURM cluster (scripts/cluster_up.sh).

One sweep of three two-rank DDP jobs (gloo on the CPU, through hydra/launcher=slurm_cpu): job 0 runs
through; job 1, the same run, is signalled by SLURM mid-epoch, saves, is requeued and resumes; job 2 has
bad input. Skipped with a reason where no cluster can be started here (no root, not Debian, no SLURM);
under CI=true that is a failure instead.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from dlstudy.runs import read_status
from tests.conftest import QUIET, scalars

ROOT = Path(__file__).resolve().parents[1]
STOP_STEP = 13  # in the second of two epochs of 10 steps: resumed mid-epoch


def no_cluster_reason() -> str | None:
    if os.geteuid() != 0:
        return "starting a local SLURM cluster needs root"
    if not Path("/etc/debian_version").exists():
        return "scripts/cluster_up.sh needs a Debian machine"
    if not all(shutil.which(c) for c in ("sbatch", "slurmctld", "slurmd", "munged")):
        return "SLURM is not installed (scripts/cluster_up.sh, as root, installs and starts it)"
    up = subprocess.run([str(ROOT / "scripts" / "cluster_up.sh")], capture_output=True, text=True, timeout=300)
    return None if up.returncode == 0 else f"the local SLURM cluster did not start: {up.stderr.strip()[-500:]}"


@pytest.fixture(scope="module")
def sweep(cluster, tmp_path_factory):
    """Run the sweep once; its folder and the launcher's output."""
    tmp = tmp_path_factory.mktemp("slurm")
    exe = Path(sys.executable).with_name("dlstudy-train")
    result = subprocess.run(
        [str(exe), "-m", "hydra/launcher=slurm_cpu", "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2",
         "trainer.deterministic=true", "trainer.max_epochs=2", "optimizer.lr=0.01,0.01,-1",
         f"hydra.sweep.dir={tmp / 'sweep'}", "hydra.sweep.subdir=${hydra.job.num}", *QUIET,
         "+callbacks.preempt._target_=tests.helpers.cluster.ScancelAt", f"+callbacks.preempt.step={STOP_STEP}",
         "+callbacks.preempt.job_num=1",
         "+callbacks.shard._target_=tests.helpers.cluster.SaveShard", "+callbacks.shard.path=${paths.output_dir}"],
        cwd=tmp, env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "sweep", result


@pytest.fixture(scope="module")
def cluster():
    """The local cluster, started if need be; a skip with the reason where it cannot be (a failure under CI)."""
    if reason := no_cluster_reason():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the cluster tests: {reason}")
        pytest.skip(reason)


def test_cpu_launcher_asks_for_cpus_not_gpus():
    from hydra import compose, initialize_config_dir

    from dlstudy import CONF_DIR

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cpu = compose("train", overrides=["hydra/launcher=slurm_cpu", "trainer=ddp", "trainer.accelerator=cpu",
                                          "trainer.devices=3", "hydra.launcher.cpus_per_task=2"], return_hydra_config=True)
        gpu = compose("train", overrides=["hydra/launcher=slurm_ddp", "trainer=ddp", "trainer.devices=4"],
                      return_hydra_config=True)
    launcher = cpu.hydra.launcher
    assert (launcher.gpus_per_node, launcher.tasks_per_node, launcher.cpus_per_task) == (None, 3, 2)
    assert list(launcher.setup) == ["export OMP_NUM_THREADS=2"]
    assert (gpu.hydra.launcher.gpus_per_node, gpu.hydra.launcher.cpus_per_task) == (4, 4)  # the GPU config as it was
    assert launcher._target_ == gpu.hydra.launcher._target_ == "hydra_plugins.dlstudy_slurm_launcher.slurm_launcher.SlurmLauncher"


@pytest.mark.slurm
def test_queue_watcher_reads_job_states_from_squeue(cluster):
    from dlstudy.job_states import QueueWatcher, accounting_enabled

    assert not accounting_enabled()  # the local cluster keeps no accounting: sacct would fail
    held = subprocess.run(["sbatch", "--parsable", "--hold", "--output=/dev/null", "--wrap=true"],
                          capture_output=True, text=True, check=True).stdout.strip()
    watcher = QueueWatcher(delay_s=60)
    try:
        assert watcher.get_state(held, mode="force") == "PENDING" and not watcher.is_done(held, mode="cache")
    finally:
        subprocess.run(["scancel", held], check=True)
    assert watcher.get_state(held, mode="force") == "CANCELLED" and watcher.is_done(held, mode="cache")
    assert watcher.get_state("999999999", mode="force") == "GONE"  # a job slurmctld does not know (any more)


def job(sweep_dir: Path, num: int) -> Path:
    return sweep_dir / str(num)


@pytest.mark.slurm
def test_sweep_of_ddp_jobs_reports_each_job(sweep):
    sweep_dir, result = sweep
    assert f"sweep {sweep_dir}: 2 finished, 0 diverged, 1 failed" in result.stdout
    assert "Bypassing sacct error" not in result.stdout + result.stderr  # no accounting: squeue, not sacct
    for num in (0, 1):
        status = read_status(job(sweep_dir, num))
        assert status["status"] == "finished" and status["threads"] == 1, status
        assert "test/acc" in status["metrics"]
        assert list(job(sweep_dir, num).glob("events.out.tfevents.*")), "each job logs in its own folder"
    failed = read_status(job(sweep_dir, 2))
    assert failed["status"] == "failed" and "lr" in failed["message"], failed


@pytest.mark.slurm
def test_each_rank_trains_on_its_own_shard(sweep):
    from dlstudy.data import DigitsDataModule

    dm = DigitsDataModule()
    dm.setup("fit")
    X_train = dm.splits["train"][0]  # (N, 1, 8, 8)
    rows = lambda X: Counter(x.numpy().tobytes() for x in X)  # noqa: E731
    for num in (0, 1):
        shards = [torch.load(job(sweep[0], num) / f"shard_rank{r}.pt", weights_only=True) for r in (0, 1)]
        assert [len(s) for s in shards] == [len(X_train) // 2] * 2
        assert rows(shards[0]) + rows(shards[1]) <= rows(X_train), "the two ranks share no sample"


@pytest.mark.slurm
def test_preempted_job_is_requeued_and_ends_as_the_uninterrupted_one(sweep):
    sweep_dir = sweep[0]
    plain, preempted = job(sweep_dir, 0), job(sweep_dir, 1)
    first, second = processes(preempted)
    assert scalars_of(first)["val/loss"] == [9], "the first run validated epoch 0, then was stopped"
    assert scalars_of(second)["val/loss"] == [19], "the requeued run went on from the checkpoint, not from 0"
    assert (preempted / "stopped_at").read_text() == str(STOP_STEP + 1), "stopped after the batch SLURM signalled"
    (job_id,) = {p.name.split("_")[0] for p in (sweep_dir / ".submitit").glob("*_1")}
    info = subprocess.run(["scontrol", "show", "job", f"{job_id}_1"], capture_output=True, text=True).stdout
    assert re.search(r"Restarts=1\b", info), info
    assert read_status(preempted)["metrics"] == read_status(plain)["metrics"]
    assert scalars(preempted)["val/loss"] == scalars(plain)["val/loss"]  # one point an epoch


def processes(run_dir: Path) -> list[list[Path]]:
    """A run folder's TensorBoard event files, grouped by the process that wrote them, oldest first."""
    by_pid: dict[str, list[Path]] = {}
    for f in sorted(run_dir.glob("events.out.tfevents.*"), key=lambda f: int(f.name.split(".")[3])):
        by_pid.setdefault(f.name.split(".")[-2], []).append(f)  # events.out.tfevents.<time>.<host>.<pid>.<n>
    return list(by_pid.values())


def scalars_of(event_files: list[Path]) -> dict[str, list[int]]:
    """The steps at which each scalar tag was written in these event files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    steps: dict[str, list[int]] = {}
    for f in event_files:
        ea = EventAccumulator(str(f), size_guidance={"scalars": 0})
        ea.Reload()
        for tag in ea.Tags()["scalars"]:
            steps.setdefault(tag, []).extend(e.step for e in ea.Scalars(tag))
    return steps
