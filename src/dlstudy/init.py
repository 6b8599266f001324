"""Weight-init schemes: plain functions `(layer) -> None`, applied to each Linear, Conv and RNN layer.

Every scheme but `default` sets the layer's weights and zeroes its biases. Parameters other than
the layer come from YAML through a Hydra partial, e.g. `normal(std=0.01)`.
"""

import torch
from torch import nn

LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.RNNBase)

# Gain names torch.nn.init understands, for the activation names of dlstudy.nets.
_GAIN_NAME = {"identity": "linear", "relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh",
              "sigmoid": "sigmoid", "gelu": "relu"}


def apply_init(net: nn.Module, init) -> None:
    """Apply `init` to every Linear, Conv and RNN layer of `net` (in module order, so seeded runs repeat)."""
    if init is None:
        return
    for module in net.modules():
        if isinstance(module, LAYERS):
            init(module)


def _set(layer: nn.Module, fill_weight) -> None:
    """Fill every weight tensor of a layer (RNNs have several) and zero its biases."""
    with torch.no_grad():
        for name, p in layer.named_parameters(recurse=False):
            if name.startswith("weight"):
                fill_weight(p)
            elif name.startswith("bias"):
                p.zero_()


def _gain_name(nonlinearity: str) -> str:
    if nonlinearity not in _GAIN_NAME:
        raise ValueError(f"nonlinearity must be one of {sorted(_GAIN_NAME)}, got {nonlinearity!r}")
    return _GAIN_NAME[nonlinearity]


def default(layer: nn.Module) -> None:
    """Leave PyTorch's own initialisation (Kaiming-uniform with a=sqrt(5) for Linear/Conv)."""


def zeros(layer: nn.Module) -> None:
    """All weights 0: every hidden unit computes the same thing and gets the same gradient."""
    _set(layer, nn.init.zeros_)


def constant(layer: nn.Module, value: float = 0.1) -> None:
    """All weights `value`: the symmetry is as unbroken as with zeros."""
    _set(layer, lambda w: nn.init.constant_(w, value))


def normal(layer: nn.Module, std: float = 0.01) -> None:
    """Weights ~ N(0, std^2)."""
    _set(layer, lambda w: nn.init.normal_(w, 0.0, std))


def uniform(layer: nn.Module, a: float = 0.05) -> None:
    """Weights ~ U(-a, a)."""
    _set(layer, lambda w: nn.init.uniform_(w, -a, a))


def xavier_uniform(layer: nn.Module) -> None:
    """Glorot & Bengio 2010: U(-b, b), b = sqrt(6 / (fan_in + fan_out))."""
    _set(layer, nn.init.xavier_uniform_)


def xavier_normal(layer: nn.Module) -> None:
    """Glorot & Bengio 2010: N(0, 2 / (fan_in + fan_out))."""
    _set(layer, nn.init.xavier_normal_)


def kaiming_uniform(layer: nn.Module, nonlinearity: str = "relu") -> None:
    """He et al. 2015, fan-in mode: U(-b, b), b = gain * sqrt(3 / fan_in)."""
    _set(layer, lambda w: nn.init.kaiming_uniform_(w, nonlinearity=_gain_name(nonlinearity)))


def kaiming_normal(layer: nn.Module, nonlinearity: str = "relu") -> None:
    """He et al. 2015, fan-in mode: N(0, gain^2 / fan_in); gain sqrt(2) for ReLU."""
    _set(layer, lambda w: nn.init.kaiming_normal_(w, nonlinearity=_gain_name(nonlinearity)))


def orthogonal(layer: nn.Module, gain: float = 1.0) -> None:
    """Saxe et al. 2014: a (semi-)orthogonal matrix times `gain`."""
    _set(layer, lambda w: nn.init.orthogonal_(w, gain=gain))


def lecun_normal(layer: nn.Module) -> None:
    """LeCun 1998: N(0, 1 / fan_in)."""
    _set(layer, lambda w: nn.init.kaiming_normal_(w, nonlinearity="linear"))  # gain 1: std = 1/sqrt(fan_in)
