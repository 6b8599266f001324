import math

import pytest
import torch
from torch import nn

from dlstudy import init
from dlstudy.init import apply_init

FAN_IN, FAN_OUT = 400, 300


def layer():
    torch.manual_seed(0)
    return nn.Linear(FAN_IN, FAN_OUT)


@pytest.mark.parametrize("scheme, std", [
    (init.xavier_normal, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (init.xavier_uniform, math.sqrt(2 / (FAN_IN + FAN_OUT))),  # U(-b, b) has std b / sqrt(3)
    (init.kaiming_normal, math.sqrt(2 / FAN_IN)),
    (init.kaiming_uniform, math.sqrt(2 / FAN_IN)),
    (init.lecun_normal, math.sqrt(1 / FAN_IN)),
    (lambda m: init.normal(m, std=0.01), 0.01),
    (lambda m: init.uniform(m, a=0.3), 0.3 / math.sqrt(3)),
    (lambda m: init.kaiming_normal(m, nonlinearity="tanh"), (5 / 3) / math.sqrt(FAN_IN)),
    (lambda m: init.kaiming_normal(m, nonlinearity="identity"), 1 / math.sqrt(FAN_IN)),
    (lambda m: init.kaiming_uniform(m, nonlinearity="tanh"), (5 / 3) / math.sqrt(FAN_IN)),
])
def test_scheme_statistics(scheme, std):
    m = layer()
    scheme(m)
    w = m.weight.detach()
    assert abs(w.mean()) < 0.05 * std
    assert w.std().item() == pytest.approx(std, rel=0.03)
    assert torch.count_nonzero(m.bias) == 0, "biases start at zero"


def test_uniform_bounds():
    m = layer()
    init.xavier_uniform(m)
    assert m.weight.abs().max() <= math.sqrt(6 / (FAN_IN + FAN_OUT))


def test_zeros_constant_orthogonal_default():
    m = layer()
    init.zeros(m)
    assert torch.count_nonzero(m.weight) == 0
    init.constant(m, value=0.25)
    assert torch.all(m.weight == 0.25)
    init.orthogonal(m, gain=2.0)
    torch.testing.assert_close(m.weight @ m.weight.T, 4 * torch.eye(FAN_OUT), atol=1e-4, rtol=0)
    before = m.weight.detach().clone()
    init.default(m)
    assert torch.equal(m.weight, before)


def test_apply_init_reaches_conv_and_rnn_and_skips_norms():
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    rnn = nn.GRU(3, 5, num_layers=2)
    apply_init(net, init.zeros)
    apply_init(rnn, init.zeros)
    for p in [*net[0].parameters(), *net[3].parameters(), *rnn.parameters()]:
        assert torch.count_nonzero(p) == 0
    assert torch.all(net[1].weight == 1), "normalisation layers keep their own init"


def test_init_is_reproducible_from_the_seed():
    def draw():
        torch.manual_seed(7)
        m = nn.Linear(10, 10)
        init.xavier_normal(m)
        return m.weight.detach()
    assert torch.equal(draw(), draw())


def test_unknown_nonlinearity_is_a_clear_error():
    with pytest.raises(ValueError, match="nonlinearity"):
        init.kaiming_normal(layer(), nonlinearity="swish")
