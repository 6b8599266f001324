"""dlstudy-train: fit a system on a DataModule, then test the best checkpoint. Configs live in conf/.

Exit status: 0 finished, 1 crashed, 2 bad input (before any training), 3 diverged, 128+signal interrupted
(resumable with `resume=<run folder>`). In a multirun a failed or diverged job never stops the others.
"""

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra._internal.hydra import Hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from hydra.types import RunMode
from omegaconf import DictConfig

from dlstudy import CONF_DIR
from dlstudy.build import build, build_trainer, log_hparams, one_line, run_hparams
from dlstudy.callbacks import Diverged, Interrupted
from dlstudy.malloc import keep_freed_memory
from dlstudy.requeue import requeue, requeued_run
from dlstudy.runs import resume_args, write_status

log = logging.getLogger(__name__)
BAD_INPUT = (ValueError, TypeError, InstantiationException)


def fail(message: str, code: int = 2) -> None:
    """Bad input: one line on stderr and a non-zero exit status, before anything is trained."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def stop(out: Path, status: str, message: str, code: int) -> None:
    """Record why the run ended; a single run exits with `code`, a sweep job lets the sweep go on."""
    write_status(out, status, message=message)
    if HydraConfig.get().mode == RunMode.MULTIRUN:
        log.error("%s: %s", status, message)
        return None
    fail(message, code)


def pin_threads() -> int:
    """Under a launcher that runs jobs side by side (joblib, fork), give each its share of the cores, so they do not
    fight."""
    launcher = HydraConfig.get().launcher
    if any(name in str(launcher.get("_target_", "")) for name in ("joblib", "fork_launcher")):
        cores = os.cpu_count() or 1
        jobs = cores if launcher.get("n_jobs") in (None, -1) else int(launcher.n_jobs)
        torch.set_num_threads(max(1, cores // max(1, min(jobs, cores))))
    return torch.get_num_threads()


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="train")
def run(cfg: DictConfig) -> float | None:
    out = Path(cfg.paths.output_dir)
    threads = pin_threads()
    keep_freed_memory()  # a step's tensors of a few MB reuse the last step's memory, without page faults
    L.seed_everything(cfg.seed, workers=True)  # before building: the init hook draws from this seed
    try:
        datamodule, system = build(cfg)
        trainer = build_trainer(cfg)
    except BAD_INPUT as e:
        return stop(out, "failed", one_line(e), 2)
    resume = cfg.get("resume") or requeued_run(out)  # a requeued SLURM job goes on in its own folder
    write_status(out, "running", resumed=bool(resume), threads=threads)
    if not resume:
        log_hparams(trainer, run_hparams(cfg), system.hparam_metrics)
    try:
        trainer.fit(system, datamodule=datamodule, ckpt_path=f"{resume}/checkpoints/last.ckpt" if resume else None,
                    weights_only=True)
        fit_metrics = dict(trainer.callback_metrics)  # trainer.test replaces them with the test metrics
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        trainer.test(system, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
    except Diverged as e:
        return stop(out, "diverged", str(e), 3)
    except Interrupted as e:
        write_status(out, "interrupted", message=str(e))
        print(f"interrupted: {e}" + ("; SLURM job requeued" if requeue() else ""), file=sys.stderr)
        sys.exit(e.exit_code)
    except Exception as e:
        if HydraConfig.get().mode != RunMode.MULTIRUN:
            write_status(out, "failed", message=f"{type(e).__name__}: {e}")
            raise
        log.exception("job failed")
        return stop(out, "failed", f"{type(e).__name__}: {e}", 1)
    metrics = {k: float(v) for k, v in (fit_metrics | trainer.callback_metrics).items() if k.startswith(("val/", "test/"))}
    write_status(out, "finished", metrics=metrics, threads=threads)
    log.info("run folder: %s", out)
    return metrics.get(cfg.monitor)  # what a sweeper minimises


def check_choices(args: list[str]) -> None:
    """An unknown option of a config group (`loss=crossentropy`) is one line listing the valid ones."""
    for arg in args:
        key, _, value = arg.lstrip("+").partition("=")
        group = Path(CONF_DIR) / key
        if not value or key.startswith("hydra") or not group.is_dir() or "(" in value:
            continue
        options = sorted(p.stem for p in group.glob("*.yaml"))
        for choice in value.split(","):  # a sweep lists several
            if choice not in options and choice != "null":
                raise ValueError(f"{key}={choice} is not an option; {key} is one of: {', '.join(options)}")


@contextmanager
def compose_once(args: list[str]):
    """Hydra composes the whole config twice per command, the first time only to read `hydra.mode`, about a
    third of a second of start-up. dlstudy's configs never set it (tests/test_configs.py checks), so unless the
    command line does, skip that first composition: Hydra then picks RUN, or MULTIRUN with -m, as it does when
    the configs leave the mode unset. (A config of your own that sets hydra.mode: pass it on the command line.)"""
    if any(a.lstrip("+~").startswith("hydra.mode") for a in args):
        yield
        return
    original = Hydra.get_mode
    Hydra.get_mode = lambda self, config_name, overrides: None  # what it returns for configs that leave it unset
    try:
        yield
    finally:
        Hydra.get_mode = original


def main() -> None:
    """Console entry point: options checked, and `resume=` turned into the run's own overrides, before Hydra."""
    try:
        check_choices(sys.argv[1:])
        sys.argv[1:] = resume_args(sys.argv[1:])
    except ValueError as e:
        fail(str(e))
    with compose_once(sys.argv[1:]):
        run()


if __name__ == "__main__":
    main()
