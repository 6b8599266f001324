"""`hydra/launcher=fork hydra.launcher.n_jobs=N`: Hydra's joblib launcher without its workers' start-up.

joblib's loky workers are fresh interpreters: each imports torch, Lightning and dlstudy again (about as long as the
sweep's own start-up) before its first job, which a sweep of short runs never earns back. These workers are
forked from the sweep's process after it has imported them, so a job starts at once. Each job runs as under
joblib (Hydra's own `execute_job`: its config, folder and logging); results come back in job order.

Fork only where it is safe: on Linux, before CUDA is initialised in the sweep's process (it is not, unless a
config resolver touches the GPU). Elsewhere (macOS, whose system libraries do not survive a fork) the launcher
says to use hydra/launcher=joblib.

The workers are plain forked processes, not a ProcessPoolExecutor: a forked worker keeps the job list it was born
with, while an executor would look its function up again by name, in a module that Hydra re-executes whenever it
scans its plugins (which resets any list kept there).
"""

import logging
import os
import pickle
import signal
import sys
from pathlib import Path

from hydra.plugins.launcher import Launcher

from hydra_plugins.dlstudy_fork_launcher.composed_once import ComposedOnce

log = logging.getLogger(__name__)
INTERRUPTED = 128 + signal.SIGINT  # the exit status of a worker whose job Ctrl-C stopped (as dlstudy-train's)


def check_fork_safe() -> None:
    """Raise RuntimeError where forking the sweep's process would break its jobs."""
    if not sys.platform.startswith("linux"):
        raise RuntimeError(f"hydra/launcher=fork runs on Linux only (this is {sys.platform}); "
                           "use hydra/launcher=joblib")
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        raise RuntimeError("hydra/launcher=fork: CUDA is already initialised in the sweep's process, and a forked "
                           "job could not use it; use hydra/launcher=joblib")


def _work(jobs: list, todo, stop, results, sweep_pid: int) -> None:
    """A worker: run the jobs whose indices it takes from `todo` until None, until `stop` is set, or once the
    sweep's process is gone; send each JobReturn (or the exception outside the task) back through cloudpickle, as
    joblib does, since the Hydra config a JobReturn carries holds structured-config classes that plain pickle
    cannot name. A job stopped by a signal (SystemExit from dlstudy.train) ends the worker."""
    import cloudpickle
    from hydra_plugins.hydra_joblib_launcher._core import execute_job  # Hydra's job body, as joblib runs it

    # Ctrl-C between jobs is the sweep's to handle; inside a job, as in a single run: GracefulStop once training,
    # KeyboardInterrupt before (that job stays "running", as a single run interrupted in its set-up does)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while not stop.is_set() and os.getppid() == sweep_pid and (i := todo.get()) is not None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            out = execute_job(*jobs[i])
        except KeyboardInterrupt:
            sys.exit(INTERRUPTED)  # as a job stopped by GracefulStop ends its worker
        except Exception as e:
            out = e
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        results.send((i, cloudpickle.dumps(out)))


class ForkLauncher(Launcher):
    """Configured by conf/hydra/launcher/fork.yaml."""

    def __init__(self, n_jobs: int = -1) -> None:
        self.n_jobs = n_jobs
        self.config = self.task_function = self.hydra_context = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config, self.task_function, self.hydra_context = config, task_function, hydra_context
        loader = hydra_context.config_loader
        if not isinstance(loader.load_sweep_config, ComposedOnce):
            loader.load_sweep_config = ComposedOnce(loader.load_sweep_config)

    def workers(self, num_jobs: int) -> int:
        wanted = (os.cpu_count() or 1) if self.n_jobs in (None, -1) else self.n_jobs
        if wanted < 1:
            raise ValueError(f"hydra.launcher.n_jobs must be >= 1 or -1, got {wanted}")
        return max(1, min(wanted, num_jobs))

    def launch(self, job_overrides, initial_job_idx: int):
        import multiprocessing
        from multiprocessing.connection import wait

        from hydra.core.singleton import Singleton
        from hydra.core.utils import configure_log, filter_overrides, setup_globals

        check_fork_safe()
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        n, workers = len(job_overrides), self.workers(len(job_overrides))
        log.info(f"Fork launcher: {n} jobs, {workers} at a time, sweep output dir : {sweep_dir}")
        for idx, overrides in enumerate(job_overrides):
            log.info(f"\t#{initial_job_idx + idx} : {' '.join(filter_overrides(overrides))}")
        state = Singleton.get_state()
        jobs = [(initial_job_idx + idx, list(overrides), self.hydra_context, self.config, self.task_function, state)
                for idx, overrides in enumerate(job_overrides)]
        ctx = multiprocessing.get_context("fork")
        todo, stop = ctx.SimpleQueue(), ctx.Event()
        for i in [*range(n), *[None] * workers]:
            todo.put(i)
        pipes, procs = {}, []
        for _ in range(workers):
            receive, send = ctx.Pipe(duplex=False)
            procs.append(ctx.Process(target=_work, args=(jobs, todo, stop, send, os.getpid())))
            procs[-1].start()
            send.close()  # the worker holds the only sending end: its exit is an EOF here
            pipes[receive] = procs[-1]
        results, interrupted = {}, False
        try:
            while len(results) < n:
                if not pipes:
                    if interrupted:  # the sweep's own SIGINT may come later than its workers' ends, on a busy machine
                        raise KeyboardInterrupt
                    raise RuntimeError(f"hydra/launcher=fork: a worker died; {n - len(results)} of {n} jobs have no "
                                       "result (see the jobs' logs)")
                for pipe in wait(list(pipes)):
                    try:
                        i, blob = pipe.recv()
                    except EOFError:
                        worker = pipes.pop(pipe)
                        worker.join()
                        interrupted |= worker.exitcode in (INTERRUPTED, -signal.SIGINT)
                        continue
                    results[i] = pickle.loads(blob)
                    if isinstance(results[i], BaseException):
                        raise results[i]
        except KeyboardInterrupt:  # Ctrl-C: the running jobs stop themselves (GracefulStop); no other job starts
            log.error(f"interrupted: {n - len(results)} of {n} jobs unfinished")
            raise SystemExit(INTERRUPTED) from None
        finally:
            stop.set()  # after Ctrl-C or an error: no worker starts another job (running jobs stop themselves)
            for p in procs:
                p.join()
        return [results[i] for i in range(n)]
