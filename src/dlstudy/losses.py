"""Only the losses torch lacks; the others are torch.nn classes named in conf/loss/*.yaml.

A loss may declare `outputs_per_target` (how many net outputs it reads per regression target) and
`point(y_hat)` (the point prediction those outputs stand for); the systems use both when present.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


class LogSoftmaxNLL(nn.NLLLoss):
    """The likelihood view of cross-entropy: -log softmax(logits)[y], spelled out as log-softmax + NLL."""

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return super().forward(F.log_softmax(logits, dim=1), y)


class FocalLoss(nn.Module):
    """Lin et al. 2017: mean of -(1 - p_y)^gamma * log p_y; gamma = 0 is cross-entropy."""

    def __init__(self, gamma: float = 2.0):
        super().__init__()
        self.gamma = gamma

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_p = F.log_softmax(logits, dim=1).gather(1, y[:, None]).squeeze(1)  # (B,)
        return (-(1 - log_p.exp()) ** self.gamma * log_p).mean()


class SquareLoss(nn.Module):
    """Hui & Belkin 2021: square loss of raw outputs against one-hot targets, averaged over classes.

    Per sample: (k * (f_y - M)^2 + sum_{j != y} f_j^2) / C; k = scale, M = margin (both 1: plain MSE).
    """

    def __init__(self, scale: float = 1.0, margin: float = 1.0):
        super().__init__()
        self.scale, self.margin = scale, margin

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(y, logits.shape[1]).to(logits.dtype)  # (B, C)
        sq = (logits - self.margin * onehot) ** 2
        weight = 1 + (self.scale - 1) * onehot
        return (weight * sq).mean()


class ProbabilityL1Loss(nn.Module):
    """Classification by L1 between softmax probabilities and the one-hot target: sum_k |p_k - [k = y]|."""

    def forward(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        p = logits.softmax(1)  # (B, C)
        return (p - F.one_hot(y, logits.shape[1]).to(p.dtype)).abs().sum(1).mean()


class GaussianNLL(nn.Module):
    """Gaussian negative log-likelihood for regression; the net gives a mean and a log-variance per target.

    Per target: 0.5 * (log s^2 + (y - mu)^2 / s^2 + log 2 pi). With the variance fixed this is MSE up
    to scale and shift: MSE is the likelihood of a Gaussian with constant noise.
    """

    outputs_per_target = 2

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if y_hat.shape[-1] != 2 * y.shape[-1]:
            raise ValueError(
                f"loss=gaussian_nll reads a mean and a log-variance per target: the net must give "
                f"{2 * y.shape[-1]} outputs, it gives {y_hat.shape[-1]}"
            )
        mean, log_var = y_hat.chunk(2, dim=-1)  # (B, T) each
        return 0.5 * (log_var + (y - mean) ** 2 * torch.exp(-log_var) + math.log(2 * math.pi)).mean()

    def point(self, y_hat: torch.Tensor) -> torch.Tensor:
        return y_hat.chunk(2, dim=-1)[0]  # the mean


# Which task a loss fits, for the check that stops a mismatch before training. Losses not listed
# (a user's own) are not checked.
CLASSIFICATION = (nn.CrossEntropyLoss, nn.NLLLoss, nn.MultiMarginLoss, FocalLoss, SquareLoss, ProbabilityL1Loss)
REGRESSION = (nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss, nn.GaussianNLLLoss, GaussianNLL)


def check_fits(loss: nn.Module, task: str) -> None:
    """Raise ValueError when `loss` is known to belong to the other task."""
    wrong = REGRESSION if task == "classification" else CLASSIFICATION
    if isinstance(loss, wrong):
        other = "regression" if task == "classification" else "classification"
        raise ValueError(f"loss={type(loss).__name__} is a {other} loss; this {task} model needs a {task} loss")
