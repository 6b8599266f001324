"""Lightning's learning-rate monitor, reading the per-step rates just before each optimizer step."""

from lightning.pytorch.callbacks import LearningRateMonitor as LightningMonitor


class LearningRateMonitor(LightningMonitor):
    """Logs `lr-<optimizer>` as Lightning's does, but per optimizer step rather than per Lightning batch, so
    that each of several steps in one batch (dlstudy.multistep) is logged at its own step with its own rate."""

    def on_train_batch_start(self, trainer, *args, **kwargs) -> None:
        pass  # moved to on_before_optimizer_step

    def on_before_optimizer_step(self, trainer, pl_module, optimizer) -> None:
        step, n = trainer.global_step, trainer.log_every_n_steps
        if self.logging_interval == "epoch" or not n or (step + 1) % n:  # the steps the logger writes
            return
        stats = self._extract_stats(trainer, "step" if self.logging_interval is None else "any")
        for logger in trainer.loggers if stats else ():
            logger.log_metrics(stats, step=step)
