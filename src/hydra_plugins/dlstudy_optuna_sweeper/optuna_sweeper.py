"""Optuna search through Hydra's launchers: each trial is one ordinary job of the sweep.

hydra-optuna-sweeper 1.3.0 pins optuna < 3, which no longer installs cleanly beside today's stack, so
this small sweeper asks and tells a current Optuna study directly. The search space uses Hydra's own
sweep syntax: choice(a, b), range(1, 5), interval(0.001, 0.1), tag(log, interval(1e-4, 1e-1)).
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
from hydra.core.plugins import Plugins
from hydra.plugins.sweeper import Sweeper
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.dlstudy_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    n_trials: int = 10
    n_jobs: int = 1  # trials launched together (with hydra/launcher=joblib they run in parallel)
    direction: str = "minimize"
    seed: int = 0
    n_startup_trials: int = 10  # random trials before TPE models the results (Optuna's default)
    params: dict = field(default_factory=dict)


ConfigStore.instance().store(group="hydra/sweeper", name="dlstudy_optuna", node=OptunaSweeperConf, provider="dlstudy")


def suggest(trial: "optuna.Trial", name: str, sweep) -> Any:
    """One value for `name` from a parsed Hydra sweep."""
    if isinstance(sweep, ChoiceSweep):
        return trial.suggest_categorical(name, list(sweep.list))
    if isinstance(sweep, RangeSweep):
        return trial.suggest_categorical(name, list(range(int(sweep.start), int(sweep.stop), int(sweep.step))))
    if isinstance(sweep, IntervalSweep):
        log_scale = "log" in sweep.tags
        if isinstance(sweep.start, int) and isinstance(sweep.end, int):
            return trial.suggest_int(name, sweep.start, sweep.end, log=log_scale)
        return trial.suggest_float(name, sweep.start, sweep.end, log=log_scale)
    raise ValueError(f"hydra.sweeper.params.{name}: use choice(...), range(...) or interval(...), got {sweep}")


def sampler(seed: int, n_startup_trials: int) -> "optuna.samplers.TPESampler":
    """The search's sampler: TPE after `n_startup_trials` random ones."""
    import optuna

    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)


class OptunaSweeper(Sweeper):
    def __init__(self, n_trials: int, n_jobs: int, direction: str, seed: int, params: dict, n_startup_trials: int = 10):
        self.n_trials, self.n_jobs, self.direction, self.seed = n_trials, n_jobs, direction, seed
        self.n_startup_trials = n_startup_trials
        self.params = dict(params or {})

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config, self.hydra_context = config, hydra_context
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        import optuna  # here: Hydra imports every plugin at the start of every run, and only a search needs optuna

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        space = {o.get_key_element(): o.value() for o in parser.parse_overrides([f"{k}={v}" for k, v in self.params.items()])}
        study = optuna.create_study(direction=self.direction, sampler=sampler(self.seed, self.n_startup_trials))
        done = 0
        while done < self.n_trials:
            trials = [study.ask() for _ in range(min(self.n_jobs, self.n_trials - done))]
            batch = [arguments + [f"{k}={suggest(t, k, s)}" for k, s in space.items()] for t in trials]
            for trial, ret in zip(trials, self.launcher.launch(batch, initial_job_idx=done)):
                value = ret._return_value if ret.status.name == "COMPLETED" else None
                if isinstance(value, (int, float)) and value == value:
                    study.tell(trial, float(value))
                else:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL)
            done += len(trials)
        results = {"name": "optuna", "direction": self.direction, "n_trials": self.n_trials,
                   "trials_completed": sum(t.state.name == "COMPLETE" for t in study.trials),
                   "trials_failed": sum(t.state.name == "FAIL" for t in study.trials)}
        if results["trials_completed"]:
            results |= {"best_value": study.best_value, "best_params": study.best_params,
                        "best_trial": study.best_trial.number}
        out = Path(self.config.hydra.sweep.dir) / "optimization_results.yaml"
        OmegaConf.save(OmegaConf.create(results), out)
        log.info("best %s: %s -> %s", self.direction, results.get("best_params"), results.get("best_value"))
        return results
