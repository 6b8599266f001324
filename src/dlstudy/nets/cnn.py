"""A LeNet-style convolutional net: (Conv -> [BatchNorm] -> activation -> pool) blocks, then an MLP head."""

from collections.abc import Sequence

import torch
from torch import nn

from dlstudy.nets.activations import make_activation
from dlstudy.nets.conv import Conv2d
from dlstudy.nets.mlp import MLP
from dlstudy.nets.pool import MaxPool2d


class CNN(nn.Module):
    """LeCun et al. 1998 in today's defaults: ReLU, max-pooling, 'same' padding.

    flipped_input_grad: each conv layer's input gradient is computed on the CPU by dlstudy.nets.conv, as a
    convolution with the flipped kernels (the same outputs and weight gradients, the input gradients to rounding;
    faster for layers of a few channels).
    """

    def __init__(self, input_shape: Sequence[int], num_outputs: int, channels: Sequence[int] = (16, 32),
                 kernel_size: int = 5, pool: str = "max", num_hiddens: Sequence[int] = (128,),
                 activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
                 flipped_input_grad: bool = False):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"input_shape must be (channels, height, width), got {list(input_shape)}")
        if not all(isinstance(c, int) and c > 0 for c in channels):
            raise ValueError(f"channels must be a list of positive integers, got {list(channels)}")
        if pool not in ("max", "avg"):
            raise ValueError(f"pool must be 'max' or 'avg', got {pool!r}")
        layers: list[nn.Module] = []
        width, conv = input_shape[0], Conv2d if flipped_input_grad else nn.Conv2d
        for c in channels:
            # a conv followed by batch norm needs no bias: the norm's shift replaces it
            layers.append(conv(width, c, kernel_size, padding=kernel_size // 2, bias=not batch_norm))
            layers += [nn.BatchNorm2d(c)] if batch_norm else []
            layers += [make_activation(activation), MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2)]
            width = c
        self.features = nn.Sequential(*layers)
        if min(input_shape[1:]) < 2 ** len(channels):
            raise ValueError(f"{len(channels)} pooling steps leave nothing of an input of shape {list(input_shape)}")
        with torch.no_grad():
            num_features = self.features.eval()(torch.zeros(1, *input_shape)).numel()
        self.features.train()
        self.head = MLP(num_features, num_hiddens, num_outputs, activation=activation, dropout=dropout,
                        batch_norm=batch_norm)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(X))  # (B, C, H, W) -> (B, C', H', W') -> (B, num_outputs)
