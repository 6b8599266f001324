"""The conv_vs_mlp and rnn_memory studies' conclusions, on reduced settings, through the real CLI."""

import pytest

from dlstudy.studies.conv_vs_mlp import report as conv_report
from dlstudy.studies.rnn_memory import report as rnn_report
from tests.conftest import cli, scalars


@pytest.mark.slow
def test_a_one_pixel_shift_costs_the_cnn_less_than_the_matched_mlp(train, tmp_path):
    """Digits (8x8), 4 channels, seed 0: the MLP of the same size is as accurate unshifted, but loses more
    accuracy when the test images move by one pixel (docs/studies.md, conv_vs_mlp, has all seeds)."""
    sweep = train("-m", "experiment=conv_vs_mlp", "arch=cnn,mlp", "size=4", "seed=0",
                  "trainer.max_epochs=15", "+callbacks.shifted_test.shifts=[1]", run_dir=tmp_path / "sweep")
    cnn, mlp = (scalars(next(sweep.glob(f"*arch={a}*"))) for a in ("cnn", "mlp"))
    assert abs(cnn["cost/params"][0] - mlp["cost/params"][0]) <= (64 + 1 + 10) / 2, "matched parameter counts"
    drop = {name: s["test/acc"][-1] - s["test/acc_shift1"][-1] for name, s in (("cnn", cnn), ("mlp", mlp))}
    assert drop["cnn"] < drop["mlp"] - 0.03
    assert cnn["test/acc_shift1"][-1] > mlp["test/acc_shift1"][-1]
    assert "| 4 | CNN |" in conv_report(sweep)


@pytest.mark.slow
def test_lstm_solves_adding_while_the_plain_rnn_loses_the_early_gradient(train, tmp_path):
    """T = 20, 440 steps: the LSTM gets below MSE 0.01; the tanh RNN does not, and after training the gradient
    reaching its first step is decades smaller than the LSTM's (relative to the last step)."""
    sweep = train("-m", "experiment=rnn_memory", "data.seq_len=20", "model.net.cell=rnn,lstm",
                  "seed=0", "trainer.max_epochs=4", run_dir=tmp_path / "sweep")
    rnn, lstm = (scalars(next(sweep.glob(f"*cell={c}*"))) for c in ("rnn", "lstm"))
    print(rnn["test/mse"], lstm["test/mse"], rnn["seqgrad/log10_ratio"], lstm["seqgrad/log10_ratio"])
    assert lstm["test/mse"][-1] < 0.01 < rnn["test/mse"][-1]
    assert rnn["seqgrad/log10_ratio"][-1] < lstm["seqgrad/log10_ratio"][-1] - 1
    assert "| 20 | LSTM | " in rnn_report(sweep)


def test_non_positive_rnn_width_is_one_line_and_exit_status_2(tmp_path):
    result = cli("dlstudy-train", "model=rnn_regressor", "++model.net.num_hiddens=0", f"hydra.run.dir={tmp_path / 'run'}",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: num_hiddens and num_layers must be positive, got 0")
    assert "Traceback" not in result.stderr + result.stdout
