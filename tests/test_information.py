import math

import pytest
import torch
import torch.nn.functional as F

from dlstudy.information import cross_entropy, entropy, entropy_of_logits, kl_divergence, smoothed_targets


def test_label_smoothed_cross_entropy_is_entropy_plus_kl():
    torch.manual_seed(0)
    logits, y = torch.randn(64, 10), torch.randint(0, 10, (64,))
    p, log_q = smoothed_targets(y, 10, 0.1), logits.log_softmax(-1)
    torch_ce = F.cross_entropy(logits, y, label_smoothing=0.1, reduction="none")
    torch.testing.assert_close(cross_entropy(p, log_q), torch_ce)
    torch.testing.assert_close(torch_ce, entropy(p) + kl_divergence(p, log_q))


def test_minimum_of_smoothed_cross_entropy_is_its_entropy():
    """K = 10, eps = 0.1: the best prediction is the target itself, and CE there is H = 0.5003 nats."""
    y = torch.tensor([3])
    p = smoothed_targets(y, 10, 0.1)
    best = F.cross_entropy(p.log(), y, label_smoothing=0.1)
    assert best.item() == pytest.approx(0.5003, abs=1e-4)
    assert entropy(p).item() == pytest.approx(-(0.91 * math.log(0.91) + 9 * 0.01 * math.log(0.01)))
    assert kl_divergence(p, p.log()).abs().item() < 1e-6
    for _ in range(20):  # any other prediction costs more
        other = (p.log() + 0.3 * torch.randn(1, 10)).log_softmax(-1)
        assert F.cross_entropy(other, y, label_smoothing=0.1) > best


def test_hard_targets_have_zero_entropy_and_kl_is_nonnegative():
    y = torch.arange(5)
    p = smoothed_targets(y, 5, 0.0)
    assert torch.all(entropy(p) == 0)
    log_q = torch.randn(5, 5).log_softmax(-1)
    assert torch.all(kl_divergence(p, log_q) >= 0)
    torch.testing.assert_close(kl_divergence(p, log_q), cross_entropy(p, log_q))


def test_every_quantity_sums_over_the_last_axis_only():
    """A (2, 3, 4) batch of distributions gives a (2, 3) batch of values, each its own row's."""
    torch.manual_seed(0)
    p, log_q = torch.randn(2, 3, 4).softmax(-1), torch.randn(2, 3, 4).log_softmax(-1)
    for f, args in ((entropy, (p,)), (cross_entropy, (p, log_q)), (kl_divergence, (p, log_q))):
        rows = torch.stack([f(*(a[i, j] for a in args)) for i in range(2) for j in range(3)]).reshape(2, 3)
        torch.testing.assert_close(f(*args), rows)


def test_entropy_of_logits_is_the_entropy_of_their_softmax():
    torch.manual_seed(0)
    z = torch.cat([torch.randn(256, 10), 30 * torch.randn(256, 10), torch.zeros(1, 10)])  # spread, peaked, uniform
    torch.testing.assert_close(entropy_of_logits(z), entropy(z.softmax(-1)))
    assert entropy_of_logits(torch.zeros(1, 10)).item() == pytest.approx(math.log(10))
    assert entropy_of_logits(torch.tensor([[0.0, -200.0]])).item() == 0  # one sure class
