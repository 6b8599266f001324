import math

import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from torch import nn

from dlstudy.callbacks import SequenceGradients
from dlstudy.callbacks.sequences import step_gradient_norms
from dlstudy.data import AddingDataModule
from dlstudy.models import Regressor
from dlstudy.nets import RNN
from tests.conftest import quick_trainer, scalars


class Weighted(nn.Module):
    """y_hat = sum_t w_t x_{t,0}: the loss gradient at step t is known in closed form."""

    def __init__(self, T: int):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(0.1, 2.0, T))

    def forward(self, X):
        return (X[..., 0] * self.w).sum(1, keepdim=True)  # (B, 1)


def test_step_gradient_norms_match_the_closed_form():
    """MSE: d loss_i / d x_{i,t} = 2 (y_hat_i - y_i) w_t on feature 0, zero on the others."""
    torch.manual_seed(0)
    X, y = torch.randn(8, 5, 2), torch.randn(8, 1)
    system = Regressor(Weighted(5))
    expected = (2 * (system(X) - y).abs()).mean() * system.net.w.abs()  # (T,)
    assert torch.allclose(step_gradient_norms(system, X, y), expected.detach(), rtol=1e-5)
    assert system.net.w.grad is None, "the measurement leaves the parameters' gradients alone"


def test_callback_logs_the_unclipped_norm_and_the_first_to_last_ratio(tmp_path):
    torch.manual_seed(0)
    system = Regressor(RNN((30, 2), 1, num_hiddens=16, cell="rnn"))
    dm = AddingDataModule(seq_len=30, num_samples=400)
    dm.setup()
    X, y = next(iter(dm.train_dataloader()))
    loss = system.loss(system(X), y)
    loss.backward()
    norm_at_init = math.sqrt(sum(p.grad.pow(2).sum().item() for p in system.parameters()))
    expected = step_gradient_norms(system, X, y)
    system.zero_grad()
    trainer = quick_trainer(max_steps=3, limit_val_batches=0, gradient_clip_val=1e-3,
                            logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[SequenceGradients(every_n_steps=2)])
    torch.manual_seed(0)  # the loader's first batch is X again: it shuffles from the run's seed
    trainer.fit(system, datamodule=dm)
    s = scalars(tmp_path)
    assert len(s["seqgrad/first"]) == 2, "steps 0 and 2"
    assert s["seqgrad/first"][0] == pytest.approx(expected[0].item(), rel=1e-4)
    assert s["seqgrad/last"][0] == pytest.approx(expected[-1].item(), rel=1e-4)
    assert s["seqgrad/log10_ratio"][0] == pytest.approx(math.log10(expected[0] / expected[-1]), rel=1e-4)
    assert s["grad/norm"][0] == pytest.approx(norm_at_init, rel=1e-4), "seen before clipping to 1e-3"
    assert s["grad/max_norm"][1] >= s["grad/norm"][1]
