"""Multilayer perceptron: flatten, then (Linear -> [BatchNorm] -> activation -> [Dropout]) per hidden layer."""

from collections.abc import Callable, Sequence

import torch
from torch import nn

from dlstudy.nets.activations import make_activation


class MLP(nn.Module):
    """A plain MLP; `num_hiddens=[]` is one affine map. The logits get no activation."""

    def __init__(
        self,
        num_inputs: int,
        num_hiddens: Sequence[int],
        num_outputs: int,
        activation: str | Callable[[], nn.Module] = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ):
        super().__init__()
        num_hiddens = list(num_hiddens)
        for name, value in (("num_inputs", num_inputs), ("num_outputs", num_outputs)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not all(isinstance(h, int) and h > 0 for h in num_hiddens):
            raise ValueError(f"num_hiddens must be a list of positive integers, got {num_hiddens!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        layers: list[nn.Module] = [nn.Flatten()]
        width = num_inputs
        for h in num_hiddens:
            layers.append(nn.Linear(width, h))
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, num_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.layers(X)  # (B, *input_shape) -> (B, num_outputs)
