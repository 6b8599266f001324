"""A recurrent classifier that reads an image as a sequence of rows."""

from collections.abc import Sequence

import torch
from torch import nn

CELLS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}


class RNN(nn.Module):
    """Row by row: a (C, H, W) image is H steps of C*W features; classify from the last hidden state."""

    def __init__(self, input_shape: Sequence[int], num_outputs: int, num_hiddens: int = 128, num_layers: int = 1,
                 cell: str = "gru"):
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if not isinstance(num_hiddens, int) or num_hiddens <= 0 or num_layers <= 0:
            raise ValueError(f"num_hiddens and num_layers must be positive, got {num_hiddens!r}, {num_layers!r}")
        channels, _, width = input_shape
        self.rnn = CELLS[cell](channels * width, num_hiddens, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(num_hiddens, num_outputs)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        seq = X.permute(0, 2, 1, 3).flatten(2)  # (B, C, H, W) -> (B, H, C*W)
        out, _ = self.rnn(seq)  # (B, H, num_hiddens)
        return self.head(out[:, -1])  # (B, num_outputs)
