"""dlstudy's SLURM launcher: Hydra's submitit one, usable on clusters without an accounting database."""
