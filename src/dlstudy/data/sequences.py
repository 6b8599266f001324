"""Synthetic long-memory sequence tasks, deterministic from a seed: the adding problem."""

import torch

from dlstudy.data.base import RandomSplitDataModule


def adding_problem(num_samples: int, seq_len: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Hochreiter & Schmidhuber 1997, as in Le et al. 2015: step t holds (value ~ U(0, 1), marker in {0, 1});
    one marker in each half of the sequence; the target is the sum of the two marked values."""
    values = torch.rand(num_samples, seq_len, generator=generator)  # (N, T)
    half = seq_len // 2
    first = torch.randint(0, half, (num_samples,), generator=generator)  # (N,)
    second = torch.randint(half, seq_len, (num_samples,), generator=generator)  # (N,)
    markers = torch.zeros(num_samples, seq_len)
    rows = torch.arange(num_samples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values * markers).sum(1, keepdim=True)  # (N, 1)
    return torch.stack([values, markers], 2), y  # (N, T, 2), (N, 1)


class AddingDataModule(RandomSplitDataModule):
    """The adding problem at sequence length `seq_len`: always answering 1.0 scores MSE = Var(U+U) = 1/6."""

    task = "regression"
    num_targets = 1
    TRIVIAL_MSE = 1 / 6  # the variance of a sum of two independent U(0, 1)

    def __init__(self, seq_len: int = 50, num_samples: int = 10_000, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(seq_len, int) or seq_len < 2:
            raise ValueError(f"seq_len must be an integer >= 2 (one marker in each half), got {seq_len!r}")
        if not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"num_samples must be a positive integer, got {num_samples!r}")
        self.seq_len, self.num_samples = seq_len, num_samples

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.seq_len, 2)

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        return adding_problem(self.num_samples, self.seq_len, torch.Generator().manual_seed(self.seed))
