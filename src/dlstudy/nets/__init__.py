"""Plain torch.nn.Modules (no Lightning here), reusable in any study."""

from dlstudy.nets.activations import ReLUAlpha, make_activation
from dlstudy.nets.mlp import MLP

__all__ = ["MLP", "ReLUAlpha", "make_activation"]
