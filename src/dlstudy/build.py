"""Turn a composed config into parts: DataModule, system, trainer. Shared by train, eval and the tests."""

import logging
import os
import re
from pathlib import Path

import lightning as L
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class, instantiate
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf, open_dict
from torch.utils.tensorboard.summary import hparams as hparams_summary

from dlstudy import CONF_DIR, tb_crc
from dlstudy.callbacks import DivergenceGuard, GracefulStop, RunConfig
from dlstudy.checkpointing import AtomicCheckpointIO
from dlstudy.models import System
from dlstudy.multistep import MultiStep


def compose_train(*overrides: str, output_dir: Path) -> DictConfig:
    """The train config as the app's task function sees it, for scripts and tests that run parts of it."""
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        # hydra.run.dir too: its default, ${unique_dir:...}, would create a run folder when resolved
        cfg = compose("train", overrides=[*overrides, f"hydra.runtime.output_dir={output_dir}",
                                          f"hydra.run.dir={output_dir}"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)  # ${hydra:...} resolves as in a real run
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg


def shapes_of(dm: L.LightningDataModule, loss) -> dict:
    """What model configs interpolate as ${shapes.*}: the DataModule is the one source of shapes."""
    shapes = {"num_inputs": dm.num_inputs, "input_shape": list(dm.input_shape)}
    if dm.task == "classification":
        return shapes | {"num_classes": dm.num_classes, "num_outputs": dm.num_classes}
    # a Gaussian head, say, reads a mean and a log-variance per target
    return shapes | {"num_targets": dm.num_targets,
                     "num_outputs": dm.num_targets * getattr(loss, "outputs_per_target", 1)}


def build_system(cfg: DictConfig, dm: L.LightningDataModule) -> System:
    """The system of `cfg.model` with its loss, optimizer, scheduler and init; shapes filled from `dm`."""
    task = getattr(get_class(cfg.model._target_), "task", dm.task)
    if task != dm.task:
        raise ValueError(f"model={cfg.model._target_.rsplit('.', 1)[-1]} is for {task}, "
                         f"data={type(dm).__name__} is for {dm.task}")
    loss = instantiate(cfg.loss)
    with open_dict(cfg):
        cfg.shapes = shapes_of(dm, loss)
    return instantiate(cfg.model, loss=loss, optimizer=instantiate(cfg.optimizer),
                       scheduler=instantiate(cfg.scheduler) if cfg.get("scheduler") else None,
                       init=instantiate(cfg.init) if cfg.get("init") else None)


def build(cfg: DictConfig) -> tuple[L.LightningDataModule, System]:
    """Data and system, with one batch checked through the net and the loss before any training."""
    dm = instantiate(cfg.data)
    system = build_system(cfg, dm)
    dm.prepare_data()
    dm.setup("fit")
    system.check_batch(dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0))
    return dm, system


def build_trainer(cfg: DictConfig) -> L.Trainer:
    """The Trainer with the configured logger and callbacks (a `null` entry switches one off).

    Always on, whatever the config: the divergence guard (its arguments from an optional `divergence` node,
    e.g. `+divergence.max_loss_factor=10`), the graceful stop on SIGTERM/SIGINT, the run config in every
    checkpoint, and atomic checkpoint writes.
    """
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values() if c]
    guard = DivergenceGuard(**OmegaConf.to_container(cfg.get("divergence") or OmegaConf.create()))
    callbacks += [guard, GracefulStop(), RunConfig(OmegaConf.to_container(cfg, resolve=True))]
    callbacks.sort(key=lambda c: not isinstance(c, MultiStep))  # first: it sets the step the others read
    logger = instantiate(cfg.logger) if cfg.get("logger") else False
    tb_crc.install()  # before the first event is written
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(no_tips)  # once: filters are a set
    trainer = instantiate(cfg.trainer, logger=logger, callbacks=callbacks, plugins=[AtomicCheckpointIO()])
    if isinstance(trainer.accelerator, CPUAccelerator):
        plain_cuda_probe()
    return trainer


def no_tips(record: logging.LogRecord) -> bool:
    """Drops Lightning's "💡 Tip:" lines (adverts for its cloud services) from every run's output."""
    return not str(record.msg).startswith("💡 Tip:")


def plain_cuda_probe() -> None:
    """Let `torch.cuda.is_available()` ask the CUDA runtime (answer cached) instead of loading NVML each call.

    `import lightning` sets PYTORCH_NVML_BASED_CUDA_CHECK=1, a probe that keeps a later fork free of CUDA
    state, and torch's Adam asks is_available() every step: with torch's CUDA build on a machine without
    a GPU that costs ~30 us a step, ~5% of a small study's step. A CPU run never uses CUDA in a child.
    """
    os.environ.pop("PYTORCH_NVML_BASED_CUDA_CHECK", None)


def run_hparams(cfg: DictConfig) -> dict:
    """The run's choices and settings as flat plain values: group options plus every set parameter."""
    params = {k: v for k, v in HydraConfig.get().runtime.choices.items() if not k.startswith("hydra") and v}
    plain = OmegaConf.to_container(cfg, resolve=True)
    for group in ("data", "model", "loss", "init", "optimizer", "scheduler"):
        params |= _flatten(plain.get(group) or {}, group)
    params["seed"] = cfg.seed
    params["trainer/max_epochs"] = cfg.trainer.get("max_epochs")
    return {k: v if isinstance(v, (int, float, str, bool)) else str(v) for k, v in params.items()}


def _flatten(d: dict, prefix: str) -> dict:
    out = {}
    for k, v in d.items():
        if k.startswith("_"):
            continue
        out |= _flatten(v, f"{prefix}/{k}") if isinstance(v, dict) else {f"{prefix}/{k}": v}
    return out


@rank_zero_only
def log_hparams(trainer: L.Trainer, params: dict, metrics: tuple[str, ...]) -> None:
    """Fill TensorBoard's HPARAMS tab once; the metric columns read the run's own scalars of those tags."""
    if trainer.logger is None or not hasattr(trainer.logger, "experiment"):
        return
    writer = trainer.logger.experiment._get_file_writer()
    for summary in hparams_summary(params, {m: 0.0 for m in metrics}):
        writer.add_summary(summary)


def one_line(error: BaseException) -> str:
    """The innermost message of a (Hydra-wrapped) error, with the config key it came from."""
    root = error
    while root.__cause__ is not None:
        root = root.__cause__
    key = re.findall(r"full_key: (\S+)", str(error))
    return f"{root} (in {key[-1]})" if key else str(root)
