"""The ReLU'(0) counter of the Diagnostics callback, for both rules of ReLUAlpha."""

import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from dlstudy.callbacks import Diagnostics
from dlstudy.data import DigitsDataModule
from dlstudy.models import Classifier
from dlstudy.nets import MLP, ReLUAlpha
from tests.conftest import quick_trainer, scalars


@pytest.mark.parametrize("rule, used", [("chain", 0.5), ("paper", 1.0)])
def test_alpha_used_counts_where_relu_prime_decides_the_gradient(tmp_path, rule, used):
    """Every ReLU input is 0; half the units send no gradient back: the chain rule uses ReLU'(0) on the other half only."""
    torch.manual_seed(0)
    net = MLP(64, [32], 10, activation=lambda: ReLUAlpha(1.0, rule=rule))
    with torch.no_grad():
        net.layers[1].weight.zero_()
        net.layers[1].bias.zero_()   # (B, 32) pre-activations, all exactly 0
        net.layers[3].weight[:, :16] = 0  # units 0..15 reach no logit: their incoming gradient is 0
    system = Classifier(net, num_classes=10)
    trainer = quick_trainer(max_steps=1, limit_val_batches=0, logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[Diagnostics(every_n_steps=1, histograms=False)])
    dm = DigitsDataModule()
    trainer.fit(system, datamodule=dm)
    s = scalars(tmp_path)
    assert s["diag/net.layers.2/preact_zero_frac"] == [1.0]
    assert s["diag/net.layers.2/alpha_used_frac"] == [used]
    assert s["diag/net.layers.2/alpha_used_count"] == [used * 32 * dm.batch_size]
