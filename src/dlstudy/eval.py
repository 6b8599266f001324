"""dlstudy-eval ckpt_path=...: test a saved checkpoint on the data it was trained for."""

import sys

import hydra
import lightning as L
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from dlstudy import CONF_DIR
from dlstudy.build import build, one_line
from dlstudy.callbacks.run_config import KEY
from dlstudy.train import fail


def load_checkpoint(path: str) -> dict:
    """Load with weights_only=True; a missing, truncated or foreign file is one clear error."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"ckpt_path: no such file: {path}") from None
    except Exception as e:  # torch raises several types for a damaged zip
        raise ValueError(f"ckpt_path: cannot read {path} as a checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(ckpt, dict) or KEY not in ckpt or "state_dict" not in ckpt:
        raise ValueError(f"ckpt_path: {path} is not a dlstudy checkpoint (it has no run config)")
    return ckpt


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="eval")
def main(cfg: DictConfig) -> dict:
    try:
        ckpt = load_checkpoint(cfg.ckpt_path)
        run_cfg = OmegaConf.create(ckpt[KEY])
        L.seed_everything(run_cfg.seed)
        datamodule, system = build(run_cfg)
        system.load_state_dict(ckpt["state_dict"])
    except (ValueError, TypeError, RuntimeError, InstantiationException) as e:
        fail(one_line(e))
    trainer = instantiate(cfg.trainer, logger=instantiate(cfg.logger))
    (metrics,) = trainer.test(system, datamodule=datamodule)
    return metrics


if __name__ == "__main__":
    main()
