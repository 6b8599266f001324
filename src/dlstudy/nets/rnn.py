"""A recurrent net over sequences: (T, F) inputs as they are, (C, H, W) images as H steps of rows."""

from collections.abc import Sequence

import torch
from torch import nn

from dlstudy.nets import bptt

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}  # "rnn" is the plain tanh cell (Elman)
BY_HAND = {"gru": bptt.GRU, "rnn": bptt.TanhRNN}  # the same cells, trained on the CPU without autograd's graph


class RNN(nn.Module):
    """A stacked rnn/lstm/gru; the head reads the last hidden state (classification or regression alike).

    hand_bptt: gru and rnn cells backpropagate through time by dlstudy.nets.bptt on the CPU (the same outputs,
    the gradients to rounding; no second derivatives): faster for small nets, where autograd's per-step bookkeeping
    outweighs the arithmetic, about even for wide ones, which it makes recompute the gates (`make
    bench-backward` measures both); false: by autograd, as nn.GRU and nn.RNN do."""

    def __init__(self, input_shape: Sequence[int], num_outputs: int, num_hiddens: int = 128, num_layers: int = 1,
                 cell: str = "gru", hand_bptt: bool = False):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if not isinstance(num_hiddens, int) or num_hiddens <= 0 or num_layers <= 0:
            raise ValueError(f"num_hiddens and num_layers must be positive, got {num_hiddens!r}, {num_layers!r}")
        if len(input_shape) not in (2, 3):
            raise ValueError(f"input_shape must be (steps, features) or (channels, height, width), "
                             f"got {list(input_shape)}")
        self.images = len(input_shape) == 3
        step_features = input_shape[0] * input_shape[2] if self.images else input_shape[1]
        cell_class = BY_HAND.get(cell, CELLS[cell]) if hand_bptt else CELLS[cell]
        self.rnn = cell_class(step_features, num_hiddens, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(num_hiddens, num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        seq = X.permute(0, 2, 1, 3).flatten(2) if self.images else X  # (B, C, H, W) -> (B, H, C*W); or (B, T, F)
        out, _ = self.rnn(seq)  # (B, T, num_hiddens)
        return self.head(out[:, -1])  # (B, num_outputs)
