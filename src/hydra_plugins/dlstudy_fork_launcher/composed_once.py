"""A sweep's job configs composed once: by the sweeper's check in the sweep's process, then taken by the workers."""

import os

from omegaconf import OmegaConf


class ComposedOnce:
    """The config loader's `load_sweep_config`, composing each job's config once instead of twice.

    Hydra's sweepers compose every job's config in the sweep's process before launching, to check that all of
    them compose (`Sweeper.validate_batch_is_legal`), and throw them away; the job then composes its config
    again (Hydra's `execute_job`), about 0.1 s a job. Here the check's configs are kept, so a worker forked
    after it takes its job's config from its copy of them (once: the job then writes into it), with the
    sweep config's resolver cache copied in again as a fresh composition would (`${now:}` and the sweep
    folder resolve to the sweep's own values)."""

    def __init__(self, load):
        self.load, self.kept, self.sweep_pid = load, {}, os.getpid()

    def __call__(self, master_config, sweep_overrides):
        key = tuple(sweep_overrides)
        if os.getpid() == self.sweep_pid:  # the sweep's check: keep what it composes, for the workers
            self.kept[key] = self.load(master_config, sweep_overrides)
            return self.kept[key]
        config = self.kept.pop(key, None)  # a worker: its job's config, composed by the check
        if config is None:
            return self.load(master_config, sweep_overrides)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config
