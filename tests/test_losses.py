import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlstudy.losses import FocalLoss, GaussianNLL, LogSoftmaxNLL, ProbabilityL1Loss, SquareLoss, check_fits


@pytest.fixture
def batch():
    torch.manual_seed(0)
    return torch.randn(16, 5), torch.randint(0, 5, (16,))


def test_log_softmax_nll_is_cross_entropy(batch):
    logits, y = batch
    torch.testing.assert_close(LogSoftmaxNLL()(logits, y), F.cross_entropy(logits, y))


def test_log_softmax_nll_takes_the_softmax_over_classes_for_every_position():
    """(B, C, T) logits, as NLLLoss accepts them: still torch's cross-entropy."""
    torch.manual_seed(0)
    logits, y = torch.randn(4, 5, 3), torch.randint(0, 5, (4, 3))
    torch.testing.assert_close(LogSoftmaxNLL()(logits, y), F.cross_entropy(logits, y))


def test_probability_l1_loss(batch):
    """sum_k |p_k - [k = y]| = 2 (1 - p_y): the probabilities off the target add up to what the target lacks."""
    logits, y = batch
    p_y = logits.softmax(1)[torch.arange(16), y]
    torch.testing.assert_close(ProbabilityL1Loss()(logits, y), (2 * (1 - p_y)).mean())
    confident = 30 * F.one_hot(y, 5).double()
    assert ProbabilityL1Loss()(confident, y).item() < 1e-10
    assert ProbabilityL1Loss()(confident, y).dtype == torch.float64


def test_one_hot_targets_have_every_class_even_when_a_batch_lacks_the_last(batch):
    logits, _ = batch
    y = torch.zeros(16, dtype=torch.long)  # only class 0 in this batch
    torch.testing.assert_close(SquareLoss()(logits, y), F.mse_loss(logits, F.one_hot(y, 5).float()))
    p0 = logits.softmax(1)[:, 0]
    torch.testing.assert_close(ProbabilityL1Loss()(logits, y), (2 * (1 - p0)).mean())


def test_focal_loss(batch):
    logits, y = batch
    torch.testing.assert_close(FocalLoss(gamma=0)(logits, y), F.cross_entropy(logits, y))
    p = logits.softmax(1)[torch.arange(16), y]
    torch.testing.assert_close(FocalLoss(gamma=2)(logits, y), (-(1 - p) ** 2 * p.log()).mean())


def test_square_loss(batch):
    logits, y = batch
    onehot = F.one_hot(y, 5).float()
    torch.testing.assert_close(SquareLoss()(logits, y), F.mse_loss(logits, onehot))
    k, M = 3.0, 2.0
    true = logits[torch.arange(16), y]
    per_sample = k * (true - M) ** 2 + (logits ** 2).sum(1) - true ** 2
    torch.testing.assert_close(SquareLoss(scale=k, margin=M)(logits, y), (per_sample / 5).mean())


def test_gaussian_nll_matches_torch():
    torch.manual_seed(0)
    y_hat, y = torch.randn(32, 6), torch.randn(32, 3)
    mean, log_var = y_hat.chunk(2, -1)
    ref = nn.GaussianNLLLoss(full=True)(mean, y, log_var.exp())
    torch.testing.assert_close(GaussianNLL()(y_hat, y), ref)
    torch.testing.assert_close(GaussianNLL().point(y_hat), mean)


def test_gaussian_nll_reads_the_last_axis_of_a_sequence_of_outputs():
    """(B, S, 2) outputs against (B, S, 1) targets: a mean and a log-variance at every position."""
    torch.manual_seed(0)
    y_hat, y = torch.randn(4, 7, 2), torch.randn(4, 7, 1)
    mean, log_var = y_hat[..., :1], y_hat[..., 1:]
    torch.testing.assert_close(GaussianNLL()(y_hat, y), nn.GaussianNLLLoss(full=True)(mean, y, log_var.exp()))
    torch.testing.assert_close(GaussianNLL().point(y_hat), mean)
    with pytest.raises(ValueError, match="the net must give 2 outputs, it gives 3$"):
        GaussianNLL()(torch.randn(4, 7, 3), y)


def test_gaussian_nll_with_unit_variance_is_half_mse_plus_constant():
    y_hat, y = torch.randn(32, 1), torch.randn(32, 1)
    with_var = torch.cat([y_hat, torch.zeros_like(y_hat)], 1)
    torch.testing.assert_close(GaussianNLL()(with_var, y), 0.5 * F.mse_loss(y_hat, y) + 0.5 * math.log(2 * math.pi))


def test_gaussian_nll_needs_two_outputs_per_target():
    with pytest.raises(ValueError, match="the net must give 2 outputs, it gives 1$"):
        GaussianNLL()(torch.randn(4, 1), torch.randn(4, 1))
    with pytest.raises(ValueError, match="the net must give 6 outputs, it gives 5$"):
        GaussianNLL()(torch.randn(4, 5), torch.randn(4, 3))


def test_check_fits():
    check_fits(nn.CrossEntropyLoss(), "classification")
    check_fits(GaussianNLL(), "regression")
    with pytest.raises(ValueError, match="classification loss"):
        check_fits(nn.CrossEntropyLoss(), "regression")
    with pytest.raises(ValueError, match="regression loss"):
        check_fits(nn.MSELoss(), "classification")
