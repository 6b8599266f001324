"""DivergenceGuard: the first non-finite or exploded loss is named exactly, and nothing diverged is validated or saved."""

import signal

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn

from dlstudy.callbacks import DivergenceGuard, Diverged
from dlstudy.data.batches import BatchLoader
from tests.conftest import QUIET, cli, quick_trainer


class NaNAt(L.LightningModule):
    """Least squares on random data whose loss turns NaN at one step."""

    def __init__(self, bad_step: int, factor: float = float("nan")):
        super().__init__()
        self.net, self.bad_step, self.factor, self.validated = nn.Linear(3, 1), bad_step, factor, 0

    def training_step(self, batch, batch_idx):
        X, y = batch
        loss = nn.functional.mse_loss(self.net(X), y)
        return loss * self.factor if self.global_step == self.bad_step else loss

    def validation_step(self, batch, batch_idx):
        self.validated += 1

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def loader(batch_size: int = 8):
    X = torch.randn(64, 3)
    return BatchLoader(X, X.sum(1, keepdim=True), batch_size=batch_size)  # 64 / batch_size steps per epoch


def fit(guard: DivergenceGuard, *callbacks, **trainer) -> tuple[L.Trainer, NaNAt, str]:
    module, t = NaNAt(bad_step=2), quick_trainer(max_epochs=1, callbacks=[guard, *callbacks], **trainer)
    with pytest.raises(Diverged) as e:
        t.fit(module, train_dataloaders=loader(), val_dataloaders=loader())
    return t, module, str(e.value)


def test_on_the_cpu_every_loss_is_read_at_once():
    t, _, message = fit(DivergenceGuard())
    assert "at step 2 (epoch 0)" in message and "lr = 0.01" in message
    assert t.global_step == 3, "stopped right after the bad step"


def test_read_in_groups_still_names_the_first_bad_step():
    t, _, message = fit(DivergenceGuard(every_n_steps=5))
    assert "loss = nan at step 2" in message
    assert t.global_step == 5, "the five losses were read together"


def test_pending_losses_are_read_before_validation_and_checkpoints(tmp_path):
    ckpt = ModelCheckpoint(dirpath=tmp_path, save_last=True)
    _, module, message = fit(DivergenceGuard(every_n_steps=1000), ckpt, enable_checkpointing=True)
    assert "at step 2" in message
    assert module.validated == 0, "diverged weights never validated"
    assert list(tmp_path.iterdir()) == [], "nor saved"


def test_finite_losses_pass(tmp_path):
    module, t = NaNAt(bad_step=-1), quick_trainer(max_epochs=2, callbacks=[DivergenceGuard(every_n_steps=3)])
    t.fit(module, train_dataloaders=loader())
    assert t.global_step == 16


def test_every_n_steps_must_be_positive():
    with pytest.raises(ValueError, match="every_n_steps must be >= 1"):
        DivergenceGuard(every_n_steps=0)


def constant_loss_fit(guard: DivergenceGuard, factor: float, bad_step: int = 3) -> L.Trainer:
    """A loss that stays at its first value except at `bad_step`, where it is `factor` times that."""

    class Flat(NaNAt):
        def training_step(self, batch, batch_idx):
            one = self.net.weight.sum() * 0 + 1  # a loss of exactly 1 that still has a graph
            return one * self.factor if self.global_step == self.bad_step else one

    t = quick_trainer(max_epochs=1, callbacks=[guard])
    t.fit(Flat(bad_step, factor), train_dataloaders=loader())
    return t


def test_a_finite_explosion_past_the_multiple_is_divergence():
    with pytest.raises(Diverged, match=r"loss = 10\.5, more than 10 times the first loss \(1\) at step 3 .*lr = 0\.01"):
        constant_loss_fit(DivergenceGuard(max_loss_factor=10), 10.5)
    assert constant_loss_fit(DivergenceGuard(max_loss_factor=10), 9.5).global_step == 8, "below the multiple: runs on"
    assert constant_loss_fit(DivergenceGuard(max_loss_factor=None), 1e30).global_step == 8, "None: NaN and inf only"


def test_the_first_loss_survives_a_checkpoint():
    guard = DivergenceGuard(max_loss_factor=10)
    constant_loss_fit(guard, 2.0)
    resumed = DivergenceGuard(max_loss_factor=10)
    resumed.load_state_dict(guard.state_dict())
    assert resumed.first_loss == 1.0


def test_max_loss_factor_must_exceed_one():
    with pytest.raises(ValueError, match="max_loss_factor must be > 1"):
        DivergenceGuard(max_loss_factor=0.5)


def test_the_default_run_with_a_huge_step_exits_3(tmp_path):
    """`dlstudy-train optimizer=sgd optimizer.lr=1e6`: the loss explodes while finite, and the run says so."""
    result = cli("dlstudy-train", "optimizer=sgd", "optimizer.lr=1e6", f"hydra.run.dir={tmp_path / 'run'}", *QUIET,
                 cwd=tmp_path)
    assert result.returncode == 3, result.stderr[-2000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: training diverged: loss = ") and "at step 1 (epoch 0)" in line and "lr = 1000000.0" in line
    assert '"status": "diverged"' in (tmp_path / "run" / "status.json").read_text()


@pytest.mark.parametrize("factor, status, code", [("10", "diverged", 3), ("1e6", "finished", None)])
def test_the_multiple_comes_from_the_config(train, tmp_path, factor, status, code):
    """Gradient descent at 1.05 x its step-size limit for 30 steps: its loss grows ~1.2x a step, past 10x, short of 1e6x."""
    from dlstudy.runs import read_status

    try:
        train("experiment=lr_stability", "lr_factor=1.05", "trainer.max_epochs=30", f"divergence.max_loss_factor={factor}")
        exit_code = None
    except SystemExit as e:
        exit_code = e.code
    assert (read_status(tmp_path / "run")["status"], exit_code) == (status, code)


def test_a_bad_multiple_is_one_line_before_training(train, capsys):
    with pytest.raises(SystemExit) as e:
        train("+divergence.max_loss_factor=0.5", "debug=fast")
    assert e.value.code == 2
    assert capsys.readouterr().err.strip() == "error: max_loss_factor must be > 1 (or null), got 0.5"


class SignalAt(L.Callback):
    """Signal this process at the start of one step (the signal lands mid-batch)."""

    def __init__(self, step: int, signum: int):
        self.step, self.signum = step, signum

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step == self.step:
            import os
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_finishes_the_batch_saves_last_and_stops(tmp_path, signum):
    from dlstudy.callbacks.guards import GracefulStop, Interrupted

    before = signal.getsignal(signum)
    stop = GracefulStop()
    trainer = quick_trainer(max_epochs=1, default_root_dir=tmp_path, callbacks=[stop, SignalAt(3, signum)])
    with pytest.raises(Interrupted) as e:
        trainer.fit(NaNAt(bad_step=-1), train_dataloaders=loader())
    ckpt = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4, "the signalled batch finished, nothing after it"
    assert e.value.exit_code == 128 + signum
    assert str(e.value) == f"stopped by {signal.Signals(signum).name}; resume from {tmp_path / 'checkpoints' / 'last.ckpt'}"
    assert signal.getsignal(signum) == before, "the previous handler is back"


def test_a_signal_goes_to_the_checkpoint_callbacks_folder(tmp_path):
    from dlstudy.callbacks.guards import GracefulStop, Interrupted

    checkpoints = ModelCheckpoint(dirpath=tmp_path / "elsewhere")
    trainer = quick_trainer(max_epochs=1, enable_checkpointing=True, default_root_dir=tmp_path,
                            callbacks=[GracefulStop(), checkpoints, SignalAt(0, signal.SIGTERM)])
    with pytest.raises(Interrupted):
        trainer.fit(NaNAt(bad_step=-1), train_dataloaders=loader())
    assert (tmp_path / "elsewhere" / "last.ckpt").exists() and not (tmp_path / "checkpoints").exists()


def test_no_signal_no_stop(tmp_path):
    from dlstudy.callbacks.guards import GracefulStop

    trainer = quick_trainer(max_epochs=1, default_root_dir=tmp_path, callbacks=[GracefulStop()])
    trainer.fit(NaNAt(bad_step=-1), train_dataloaders=loader())
    assert trainer.global_step == 8 and not (tmp_path / "checkpoints").exists()
