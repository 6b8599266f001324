"""Activation functions by name, and a ReLU whose derivative at 0 is a parameter."""

from collections.abc import Callable

import torch
from torch import nn

NAMES: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "identity": nn.Identity,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
}


class _ReLUAlphaFn(torch.autograd.Function):
    """relu(x) with d/dx relu(0) := alpha (torch uses 0)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        slope = (x > 0).to(grad_out.dtype) + ctx.alpha * (x == 0).to(grad_out.dtype)
        return grad_out * slope, None


class ReLUAlpha(nn.Module):
    """ReLU with ReLU'(0) = alpha: the backward pass gives grad_out * alpha where the input is exactly 0."""

    def __init__(self, alpha: float = 0.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ReLUAlphaFn.apply(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


def make_activation(activation: str | Callable[[], nn.Module]) -> nn.Module:
    """Build an activation from its name, or call a factory (e.g. a Hydra partial of ReLUAlpha)."""
    if callable(activation):
        return activation()
    if activation not in NAMES:
        raise ValueError(f"activation must be one of {sorted(NAMES)} or a module factory, got {activation!r}")
    return NAMES[activation]()
