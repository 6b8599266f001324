import pytest
import torch
from torch import nn

from dlstudy.nets import CNN, MLP, count_parameters, matched_width


def test_count_parameters_by_hand():
    assert count_parameters(nn.Linear(5, 3)) == 5 * 3 + 3
    assert count_parameters(MLP(784, [20], 10)) == 785 * 20 + 21 * 10
    frozen = nn.Linear(4, 4)
    frozen.bias.requires_grad_(False)
    assert count_parameters(frozen) == 16, "only what trains counts"


@pytest.mark.parametrize("target", [3652, 7142, 14_722, 32_282])
def test_matched_width_is_the_nearest_one_hidden_layer_mlp(target):
    h = matched_width(target, 784, 10)
    counts = {w: count_parameters(MLP(784, [w], 10)) for w in (h - 1, h, h + 1)}
    assert abs(counts[h] - target) == min(abs(c - target) for c in counts.values())


def test_matched_width_against_a_cnn():
    cnn = CNN((1, 28, 28), 10, channels=[8, 8], num_hiddens=[32])
    mlp = MLP(784, [matched_width(count_parameters(cnn), 784, 10)], 10)
    assert abs(count_parameters(mlp) - count_parameters(cnn)) <= (784 + 1 + 10) / 2
    with pytest.raises(ValueError, match="num_params"):
        matched_width(5, 784, 10)
    assert torch.is_tensor(mlp(torch.zeros(1, 1, 28, 28)))
