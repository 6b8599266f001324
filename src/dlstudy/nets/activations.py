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


RULES = ("chain", "paper")


class _ReLUAlphaFn(torch.autograd.Function):
    """relu(x) whose backward at x == 0 is alpha * grad_out ("chain") or the constant alpha ("paper")."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, alpha: float, rule: str) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.alpha, ctx.rule = alpha, rule
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        (x,) = ctx.saved_tensors
        at_zero = x == 0
        if ctx.rule == "paper":  # Bertoin et al.'s code: grad_in[x == 0] = alpha, whatever arrives from above
            grad_in = torch.where(x > 0, grad_out, torch.zeros_like(grad_out))
            return grad_in.masked_fill(at_zero, ctx.alpha), None, None
        slope = (x > 0).to(grad_out.dtype) + ctx.alpha * at_zero.to(grad_out.dtype)
        return grad_out * slope, None, None


class ReLUAlpha(nn.Module):
    """ReLU with ReLU'(0) = alpha.

    rule="chain" (backpropagation proper): grad_in = alpha * grad_out where the input is exactly 0.
    rule="paper" (the official code of Bertoin et al., NeurIPS 2021): grad_in = alpha there, a constant
    that ignores grad_out. The two agree for alpha = 0.
    """

    def __init__(self, alpha: float = 0.0, rule: str = "chain"):
        super().__init__()
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
        self.alpha, self.rule = float(alpha), rule

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _ReLUAlphaFn.apply(x, self.alpha, self.rule)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, rule={self.rule}"


def make_activation(activation: str | Callable[[], nn.Module]) -> nn.Module:
    """Build an activation from its name, or call a factory (e.g. a Hydra partial of ReLUAlpha)."""
    if callable(activation):
        return activation()
    if activation not in NAMES:
        raise ValueError(f"activation must be one of {sorted(NAMES)} or a module factory, got {activation!r}")
    return NAMES[activation]()
