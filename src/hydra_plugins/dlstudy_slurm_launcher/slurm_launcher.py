"""Hydra's submitit SLURM launcher; on a cluster without accounting, job states come from squeue, not sacct."""

from hydra_plugins.hydra_submitit_launcher import submitit_launcher


class SlurmLauncher(submitit_launcher.SlurmLauncher):
    """Where `sacct` has no database (and fails on every poll), submitit's job watcher asks `squeue` instead."""

    def launch(self, job_overrides, initial_job_idx):
        from submitit.slurm.slurm import SlurmJob  # imported here: Hydra imports every plugin module at start-up

        from dlstudy.job_states import QueueWatcher, accounting_enabled

        if not accounting_enabled():
            SlurmJob.watcher = QueueWatcher(delay_s=60)  # submitit keeps one watcher for all SLURM jobs
        return super().launch(job_overrides, initial_job_idx)
