"""Store the run's resolved config in every checkpoint, so a checkpoint alone rebuilds its system."""

from lightning.pytorch.callbacks import Callback

KEY = "dlstudy_config"


class RunConfig(Callback):
    """`checkpoint["dlstudy_config"]` = the plain (resolved) config dict; loads with weights_only=True."""

    def __init__(self, config: dict):
        self.config = config

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        checkpoint[KEY] = self.config
