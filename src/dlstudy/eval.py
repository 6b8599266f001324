"""dlstudy-eval ckpt_path=...: test a saved checkpoint on the data it was trained for."""


import hydra
import lightning as L
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from dlstudy import CONF_DIR
from dlstudy.build import build, one_line
from dlstudy.callbacks.run_config import KEY
from dlstudy.checkpointing import load_checkpoint, load_weights
from dlstudy.train import fail


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="eval")
def main(cfg: DictConfig) -> dict:
    try:
        ckpt = load_checkpoint(cfg.ckpt_path)
        run_cfg = OmegaConf.create(ckpt[KEY])
        L.seed_everything(run_cfg.seed)
        datamodule, system = build(run_cfg)
        load_weights(system, ckpt)
    except (ValueError, TypeError, RuntimeError, InstantiationException) as e:
        fail(one_line(e))
    trainer = instantiate(cfg.trainer, logger=instantiate(cfg.logger))
    (metrics,) = trainer.test(system, datamodule=datamodule)
    return metrics


if __name__ == "__main__":
    main()
