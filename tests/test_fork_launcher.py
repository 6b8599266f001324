"""hydra/launcher=fork: a sweep's jobs side by side in forked workers, each as the basic launcher runs it."""

import json
import os

import pytest
import torch

from dlstudy.runs import read_status
from hydra_plugins.dlstudy_fork_launcher.composed_once import ComposedOnce
from hydra_plugins.dlstudy_fork_launcher.fork_launcher import ForkLauncher, check_fork_safe

SWEEP = ["-m", "debug=fast", "loss=cross_entropy,square,focal"]


def jobs_of(sweep):
    return sorted(p for p in sweep.iterdir() if p.is_dir() and (p / ".hydra").is_dir())


def test_forked_jobs_give_the_basic_launchers_runs_with_their_share_of_threads(train, tmp_path):
    """Same folders, statuses and metrics (to the last bit) as one job after another on one thread each."""
    forked = jobs_of(train(*SWEEP, "hydra/launcher=fork", "hydra.launcher.n_jobs=2", run_dir=tmp_path / "fork"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # what each forked job gets on a 2-core machine; the same float sums
    try:
        basic = jobs_of(train(*SWEEP, "hydra/launcher=basic", run_dir=tmp_path / "basic"))
    finally:
        torch.set_num_threads(threads)
    assert [p.name for p in forked] == [p.name for p in basic] == \
        ["0_loss=cross_entropy", "1_loss=square", "2_loss=focal"]
    statuses = [read_status(p) for p in forked]
    assert [s["status"] for s in statuses] == ["finished"] * 3
    assert {s["threads"] for s in statuses} == {max(1, (os.cpu_count() or 1) // 2)}
    if (os.cpu_count() or 1) == 2:
        assert [s["metrics"] for s in statuses] == [read_status(p)["metrics"] for p in basic]
    assert len({s["pid"] for s in statuses} | {os.getpid()}) == 3, "two workers, neither of them this process"


def test_a_failed_job_leaves_the_others_running(train, tmp_path):
    sweep = train("-m", "debug=fast", "optimizer.lr=0.01,-1.0,0.02", "hydra/launcher=fork", "hydra.launcher.n_jobs=2",
                  run_dir=tmp_path / "fork")
    assert [read_status(p)["status"] for p in jobs_of(sweep)] == ["finished", "failed", "finished"]


def test_where_a_fork_is_unsafe_it_says_which_launcher_to_use(monkeypatch):
    monkeypatch.setattr("sys.platform", "darwin")
    with pytest.raises(RuntimeError, match="runs on Linux only .* use hydra/launcher=joblib"):
        check_fork_safe()


@pytest.mark.parametrize("n_jobs, num_jobs, workers", [(2, 5, 2), (4, 3, 3), (-1, 100, os.cpu_count() or 1)])
def test_workers(n_jobs, num_jobs, workers):
    assert ForkLauncher(n_jobs).workers(num_jobs) == workers


def test_zero_workers_is_an_error():
    with pytest.raises(ValueError, match="n_jobs must be >= 1 or -1, got 0"):
        ForkLauncher(0).workers(3)


def start_training_sweep(tmp_path, lrs: str, n_jobs: int, training: int):
    """A long sweep in its own process group, returned once `training` of its jobs are past their first epoch."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from tests.conftest import QUIET, cpu_unless_named

    sweep = tmp_path / "sweep"
    exe = Path(sys.executable).with_name("dlstudy-train")
    args = ["-m", "trainer.max_epochs=200", f"optimizer.lr={lrs}", "hydra/launcher=fork",
            f"hydra.launcher.n_jobs={n_jobs}", f"hydra.sweep.dir={sweep}", *QUIET]
    proc = subprocess.Popen([str(exe), *args], cwd=tmp_path, start_new_session=True, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=os.environ | cpu_unless_named(args))
    deadline = time.time() + 120
    while len(list(sweep.glob("*/checkpoints/last.ckpt"))) < training:
        assert proc.poll() is None and time.time() < deadline, f"{training} jobs should be training"
        time.sleep(0.2)
    return proc, sweep


def test_ctrl_c_stops_the_running_jobs_and_starts_no_other(tmp_path):
    """SIGINT to the whole process group, as a terminal's Ctrl-C sends it, once the first jobs are training."""
    import signal

    proc, sweep = start_training_sweep(tmp_path, "0.001,0.002,0.003,0.004", n_jobs=2, training=2)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, output[-2000:]
    assert "interrupted: 4 of 4 jobs unfinished" in output
    started = sorted(p.parent.name for p in sweep.glob("*/status.json"))
    assert [name.split(",")[0] for name in started] == ["0_optimizer.lr=0.001", "1_optimizer.lr=0.002"], \
        "no job starts after Ctrl-C"
    assert [read_status(sweep / name)["status"] for name in started] == ["interrupted"] * 2


def test_a_killed_worker_ends_the_sweep_with_an_error_not_as_interrupted(tmp_path):
    """A worker that dies (SIGKILL: out of memory, say) is not a Ctrl-C: the sweep says so and exits 1."""
    import signal
    from pathlib import Path

    proc, _ = start_training_sweep(tmp_path, "0.001,0.002", n_jobs=1, training=1)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 1, children
    os.kill(int(children[0]), signal.SIGKILL)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "a worker died; 2 of 2 jobs have no result" in output, output[-2000:]


def test_each_jobs_config_is_composed_once_and_resolves_the_sweeps_own_folder(train, tmp_path, monkeypatch):
    """Hydra's sweeper composes every job's config in the sweep's process to check it; the workers use those and
    compose none. A sweep folder named to the microsecond by ${now:} still holds every job: the workers' configs
    resolve it from the sweep's cache, as a fresh composition would."""
    from hydra._internal.config_loader_impl import ConfigLoaderImpl

    log, load = tmp_path / "compositions", ConfigLoaderImpl.load_configuration

    def logged(self, *args, **kwargs):
        with log.open("a") as f:
            f.write(f"{os.getpid()}\n")
        return load(self, *args, **kwargs)

    monkeypatch.setattr(ConfigLoaderImpl, "load_configuration", logged)
    sweep = train(*SWEEP, "hydra/launcher=fork", "hydra.launcher.n_jobs=2", "hydra.sweep.dir=" +
                  str(tmp_path / "sweeps" / "${now:%H-%M-%S-%f}"))
    assert sweep.exists() is False  # the train fixture's folder was overridden by the one above
    folders = list((tmp_path / "sweeps").iterdir())
    assert len(folders) == 1 and [p.name for p in jobs_of(folders[0])] == \
        ["0_loss=cross_entropy", "1_loss=square", "2_loss=focal"]
    assert [read_status(p)["status"] for p in jobs_of(folders[0])] == ["finished"] * 3
    assert log.read_text().split() == [str(os.getpid())] * 4  # the sweep's config, then the check of each job


def test_a_kept_config_takes_the_sweeps_resolver_cache_as_it_is_when_its_job_starts():
    """What a fresh composition in the worker would copy (Hydra's load_sweep_config copies the sweep config's
    cache of resolved values: ${now:}, the sweep folder), also when the sweep resolved more after the check."""
    from itertools import count

    from omegaconf import OmegaConf

    ticks = count()
    OmegaConf.register_new_resolver("test_tick", lambda: next(ticks), use_cache=True, replace=True)
    composed = ComposedOnce(lambda master, overrides: OmegaConf.create({"overrides": list(overrides)}))
    master = OmegaConf.create({"t": "${test_tick:}"})
    kept = composed(master, ["a=1"])  # the sweep's check
    assert master.t == 0  # resolved after the check: now in the sweep config's cache
    composed.sweep_pid = -1  # as in a forked worker
    config = composed(master, ["a=1"])
    assert config is kept and OmegaConf.get_cache(config) == OmegaConf.get_cache(master) != {}
    assert composed(master, ["a=1"]) is not kept  # used once: a second request composes afresh
