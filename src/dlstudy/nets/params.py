"""Parameter counts, and the MLP width that matches another net's count."""

from torch import nn


def count_parameters(net: nn.Module) -> int:
    """The number of trainable scalars in `net`."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def matched_width(num_params: int, num_inputs: int, num_outputs: int) -> int:
    """The hidden width h of a one-hidden-layer MLP (num_inputs -> h -> num_outputs) whose
    (num_inputs + 1) h + (h + 1) num_outputs parameters come closest to `num_params`."""
    if num_params <= num_outputs:
        raise ValueError(f"num_params must exceed num_outputs ({num_outputs}), got {num_params!r}")
    per_unit = num_inputs + 1 + num_outputs  # one hidden unit: its weights in, its bias, its weights out
    return max(1, round((num_params - num_outputs) / per_unit))
