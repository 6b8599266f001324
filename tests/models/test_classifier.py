from functools import partial

import pytest
import torch
from torch import nn

from dlstudy import init
from dlstudy.data import DigitsDataModule, SyntheticClassificationDataModule
from dlstudy.models import Classifier
from dlstudy.nets import MLP
from tests.conftest import quick_trainer


def test_defaults_train_any_net_and_checkpoint_loads_weights_only(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))  # any net
    system = Classifier(net=net, num_classes=10)
    dm = DigitsDataModule()
    trainer = quick_trainer(max_epochs=10)
    trainer.fit(system, datamodule=dm)
    assert trainer.callback_metrics["val/acc"] > 0.85
    assert set(trainer.callback_metrics) >= {"train/loss", "val/loss", "val/acc", "val/entropy", "train/acc"}

    trainer.save_checkpoint(tmp_path / "c.ckpt")
    ckpt = torch.load(tmp_path / "c.ckpt", weights_only=True)
    assert ckpt["hyper_parameters"] == {"num_classes": 10}
    again = Classifier(net=nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), num_classes=10)
    again.load_state_dict(ckpt["state_dict"])
    X, _ = dm.splits["test"]
    torch.testing.assert_close(again(X), system(X))


@pytest.mark.filterwarnings("ignore:.*self.trainer.*")
def test_mean_predictive_entropy_is_logged_and_correct():
    torch.manual_seed(0)
    system = Classifier(MLP(2, [4], 3), num_classes=3)
    X, y = torch.randn(50, 2), torch.randint(0, 3, (50,))
    system.update_metrics("val", system(X).detach(), y)
    p = system(X).softmax(-1)
    expected = -(p * p.log()).sum(-1).mean()
    assert system.val_metrics["entropy"].compute().item() == pytest.approx(expected.item(), rel=1e-5)
    assert system.val_metrics["acc"].compute().item() == pytest.approx((p.argmax(-1) == y).float().mean().item())


@pytest.mark.parametrize("scheme", [init.zeros, partial(init.constant, value=0.2)])
def test_symmetric_init_keeps_hidden_units_identical(scheme):
    torch.manual_seed(0)
    net = MLP(2, [8], 2, activation="tanh")
    system = Classifier(net, num_classes=2, init=scheme, optimizer=partial(torch.optim.SGD, lr=0.5))
    first = net.layers[1]
    before = first.weight.detach().clone()
    quick_trainer(max_epochs=5, limit_val_batches=0).fit(system, datamodule=SyntheticClassificationDataModule())
    W = first.weight.detach()
    assert torch.allclose(W, W[:1].expand_as(W)), "every hidden unit still has the same weights"
    if scheme is not init.zeros:
        assert not torch.equal(W, before), "the weights did move"


def test_bad_parts_are_rejected_before_training():
    net = MLP(64, [16], 10)
    with pytest.raises(ValueError, match="regression loss"):
        Classifier(net, num_classes=10, loss=nn.MSELoss())
    with pytest.raises(ValueError, match="optimizer.lr must be > 0"):
        Classifier(net, num_classes=10, optimizer=partial(torch.optim.Adam, lr=0))
    with pytest.raises(ValueError, match="one logit per class"):
        Classifier(net, num_classes=7).check_batch((torch.randn(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)))


def test_compiled_net_trains_and_checkpoints_like_the_plain_one(tmp_path):
    """compile= compiles the net only: the same state_dict keys, the same outputs, weights_only checkpoints."""
    torch.manual_seed(0)
    plain = Classifier(MLP(64, [16], 10), num_classes=10)
    compiled = Classifier(MLP(64, [16], 10), num_classes=10, compile="eager")  # a backend that needs no compiler
    compiled.load_state_dict(plain.state_dict())
    assert compiled.state_dict().keys() == plain.state_dict().keys()
    X = torch.randn(8, 1, 8, 8)
    torch.testing.assert_close(compiled(X), plain(X))
    assert compiled._run_net is not compiled.net, "forward goes through the compiled wrapper"
    trainer = quick_trainer(max_steps=3, limit_val_batches=0)
    trainer.fit(compiled, datamodule=DigitsDataModule())
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    assert torch.load(tmp_path / "c.ckpt", weights_only=True)["state_dict"].keys() == plain.state_dict().keys()
