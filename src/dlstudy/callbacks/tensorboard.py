"""Find the run's TensorBoard writer, if it has one."""

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger


def writer_of(trainer: L.Trainer):
    """The SummaryWriter of the first TensorBoardLogger on rank 0, else None."""
    if not trainer.is_global_zero:
        return None
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            return logger.experiment
    return None
