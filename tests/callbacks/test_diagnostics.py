"""The Diagnostics callback: its ReLU'(0) counter, for both rules of ReLUAlpha, and its gradient norms."""

import pytest
import torch
from torch import nn
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import TensorBoardLogger

from dlstudy.callbacks import Diagnostics
from dlstudy.multistep import MultiStep
from dlstudy.data import DigitsDataModule
from dlstudy.data.sequences import AddingDataModule
from dlstudy.models import Classifier, Regressor
from dlstudy.nets import MLP, RNN, ReLUAlpha
from tests.conftest import quick_trainer, scalars, series


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


class GradNorms(Callback):
    """The oracle: every weight gradient of every layer at the first optimizer step, as torch sees it."""

    def on_before_optimizer_step(self, trainer, pl_module, optimizer):
        if trainer.global_step == 0:
            self.grads = {n: p.grad.clone() for n, p in pl_module.named_parameters() if "weight" in n.rsplit(".", 1)[-1]}


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_grad_norm_of_a_recurrent_layer_is_the_norm_of_all_its_weight_gradients(tmp_path, cell):
    """A recurrent layer has no `.weight`, but weight_ih_l0, weight_hh_l0, ...: their joint norm is logged."""
    torch.manual_seed(0)
    dm = AddingDataModule(seq_len=8, num_samples=256)
    system = Regressor(RNN(dm.input_shape, 1, num_hiddens=8, num_layers=2, cell=cell))
    oracle = GradNorms()
    trainer = quick_trainer(max_steps=1, limit_val_batches=0, logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[Diagnostics(every_n_steps=1, histograms=False), oracle])
    trainer.fit(system, datamodule=dm)
    s = scalars(tmp_path)
    rnn = torch.cat([g.flatten() for n, g in oracle.grads.items() if n.startswith("net.rnn.")])
    assert len([n for n in oracle.grads if n.startswith("net.rnn.")]) == 4  # ih and hh, two layers
    name = next(n for n, m in system.named_modules() if isinstance(m, torch.nn.RNNBase))
    assert s[f"diag/{name}/grad_norm"] == [pytest.approx(rnn.norm().item(), rel=1e-6)]
    head = next(n for n in oracle.grads if not n.startswith("net.rnn."))
    assert s[f"diag/{head.rsplit('.', 1)[0]}/grad_norm"] == [pytest.approx(oracle.grads[head].norm().item(), rel=1e-6)]


@pytest.mark.parametrize("steps", [1, 4])
def test_hooks_are_on_the_activations_only_for_the_steps_logged(tmp_path, steps):
    """Every 3rd step is logged; on the others no activation carries a hook (a full backward hook costs every call
    of its module autograd nodes), in Lightning's loop and in multistep's groups; none is left after the fit."""
    seen = []

    class Seen(nn.ReLU):
        def forward(self, X):
            seen.append((self.training, trainer.global_step, bool(self._forward_hooks), bool(self._backward_hooks)))
            return super().forward(X)

    torch.manual_seed(0)
    net = MLP(64, [16, 16], 10, activation=Seen)
    trainer = quick_trainer(max_steps=10, limit_val_batches=1, val_check_interval=4, check_val_every_n_epoch=None,
                            logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[MultiStep(steps), Diagnostics(every_n_steps=3, histograms=False)])
    trainer.fit(Classifier(net, num_classes=10), datamodule=DigitsDataModule())
    training = [s[1:] for s in seen if s[0]]
    assert sorted({step for step, *_ in training}) == list(range(10))
    assert all(fwd == bwd == (step % 3 == 0) for step, fwd, bwd in training), training
    assert [s for s in seen if not s[0] and (s[2] or s[3])] == []  # validation: no hooks
    logged = {tag: [step for step, _ in points] for tag, points in series(tmp_path).items() if tag.startswith("diag/")}
    assert logged and all(steps == [0, 3, 6, 9] for steps in logged.values()), logged
    assert not any(m._forward_hooks or m._backward_hooks for m in net.modules())


def test_a_compiled_net_resumed_between_logged_steps_still_logs_them(tmp_path):
    """torch.compile does not watch hooks: a net first traced on a step that is not logged (a resume) must still
    call the hooks of the steps that are, so a compiled net keeps them all along."""
    torch.manual_seed(0)
    dm = DigitsDataModule()
    first = quick_trainer(max_steps=4, limit_val_batches=0)
    first.fit(Classifier(MLP(64, [16], 10), num_classes=10), datamodule=dm)
    first.save_checkpoint(tmp_path / "step4.ckpt")
    system = Classifier(MLP(64, [16], 10), num_classes=10, compile="eager")
    trainer = quick_trainer(max_steps=10, limit_val_batches=0, logger=TensorBoardLogger(tmp_path, name="", version=""),
                            callbacks=[Diagnostics(every_n_steps=3, histograms=False)])
    trainer.fit(system, datamodule=dm, ckpt_path=tmp_path / "step4.ckpt", weights_only=False)
    steps = {tag: [step for step, _ in points] for tag, points in series(tmp_path).items() if tag.startswith("diag/")}
    assert steps["diag/net.layers.2/act_std"] == [6, 9] and steps["diag/net.layers.1/grad_norm"] == [6, 9], steps
