"""dlstudy-train: fit a system on a DataModule, then test the best checkpoint. Configs live in conf/."""

import logging
import sys

import hydra
import lightning as L
from hydra.errors import InstantiationException
from omegaconf import DictConfig

from dlstudy import CONF_DIR
from dlstudy.build import build, build_trainer, log_hparams, one_line, run_hparams

log = logging.getLogger(__name__)


def fail(message: str) -> None:
    """Bad input: one line on stderr and exit status 2, before anything is trained."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="train")
def main(cfg: DictConfig) -> float | None:
    L.seed_everything(cfg.seed, workers=True)  # before building: the init hook draws from this seed
    try:
        datamodule, system = build(cfg)
        trainer = build_trainer(cfg)
    except (ValueError, TypeError, InstantiationException) as e:
        fail(one_line(e))
    log_hparams(trainer, run_hparams(cfg), system.hparam_metrics)
    trainer.fit(system, datamodule=datamodule)
    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    trainer.test(system, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
    log.info("run folder: %s", cfg.paths.output_dir)
    metric = trainer.callback_metrics.get(cfg.monitor)
    return None if metric is None else float(metric)  # what a sweeper minimises


if __name__ == "__main__":
    main()
