from functools import partial

import pytest
import torch
from torch import nn

from dlstudy.data import SyntheticRegressionDataModule
from dlstudy.losses import GaussianNLL
from dlstudy.models import Regressor
from tests.conftest import quick_trainer


def full_batch(num_features=3, noise=0.1, seed=0):
    dm = SyntheticRegressionDataModule(num_samples=1000, num_features=num_features, noise=noise, seed=seed,
                                       batch_size=10_000)  # one batch: plain gradient descent
    dm.setup()
    return dm


def test_gradient_descent_reaches_least_squares_and_the_true_weights():
    torch.manual_seed(0)
    dm = full_batch()
    system = Regressor(nn.Linear(3, 1), optimizer=partial(torch.optim.SGD, lr=0.5))
    quick_trainer(max_epochs=200, limit_val_batches=0).fit(system, datamodule=dm)

    X, y = dm.splits["train"]
    A = torch.cat([X, torch.ones(len(X), 1)], 1)
    w_lstsq = torch.linalg.lstsq(A, y).solution[:, 0]  # (F + 1,)
    w_gd = torch.cat([system.net.weight[0], system.net.bias]).detach()
    torch.testing.assert_close(w_gd, w_lstsq, atol=1e-4, rtol=0)
    # The noise (sd 0.1, n = 700) leaves least squares about 0.004 from the truth per weight.
    torch.testing.assert_close(w_gd[:3], dm.true_weight, atol=0.02, rtol=0)
    assert abs(w_gd[3].item() - dm.true_bias) < 0.02


def test_gaussian_head_learns_mean_and_noise_variance():
    torch.manual_seed(0)
    dm = full_batch(num_features=2, noise=0.3)
    system = Regressor(nn.Linear(2, 2), loss=GaussianNLL(), optimizer=partial(torch.optim.Adam, lr=0.05))
    quick_trainer(max_epochs=400, limit_val_batches=0).fit(system, datamodule=dm)
    mean_w, log_var_w = system.net.weight.detach()
    torch.testing.assert_close(mean_w, dm.true_weight, atol=0.05, rtol=0)
    assert log_var_w.abs().max() < 0.05, "the noise does not depend on x"
    assert system.net.bias[1].item() == pytest.approx(torch.log(torch.tensor(0.09)).item(), abs=0.15)


def test_output_shape_and_task_are_checked():
    dm = full_batch(num_features=2)
    batch = next(iter(dm.train_dataloader()))
    with pytest.raises(ValueError, match="2 output"):
        Regressor(nn.Linear(2, 1), loss=GaussianNLL()).check_batch(batch)
    with pytest.raises(ValueError, match="classification loss"):
        Regressor(nn.Linear(2, 1), loss=nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="optimizer.lr must be > 0"):
        Regressor(nn.Linear(2, 1), optimizer=partial(torch.optim.SGD, lr=-0.1))
