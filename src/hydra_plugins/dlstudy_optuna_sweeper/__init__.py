"""A Hydra sweeper that drives Optuna (>= 3) itself: `hparams_search=<name>` in dlstudy."""
