"""Plain torch.nn.Modules (no Lightning here), reusable in any study."""

from dlstudy.nets.activations import ReLUAlpha, make_activation
from dlstudy.nets.cnn import CNN
from dlstudy.nets.mlp import MLP
from dlstudy.nets.params import count_parameters, matched_width
from dlstudy.nets.pool import MaxPool2d
from dlstudy.nets.rnn import RNN

__all__ = ["CNN", "MLP", "MaxPool2d", "RNN", "ReLUAlpha", "count_parameters", "make_activation", "matched_width"]
