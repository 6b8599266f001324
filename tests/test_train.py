"""The real Hydra app end to end: runs, sweeps, run folders, TensorBoard contents, bad input."""

import re

import pytest
import torch
from tensorboard.plugins.hparams import plugin_data_pb2

from tests.conftest import event_accumulator, scalars, series

CLASSIFIER_LOSSES = ["cross_entropy", "nll", "label_smoothing", "focal", "square", "multi_margin"]
REGRESSION_LOSSES = ["mse", "l1", "huber", "gaussian_nll"]


def hparams_of(run_dir):
    """(hyperparameters, metric tags) from the HPARAMS summaries of a run folder."""
    content = event_accumulator(run_dir).PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    experiment = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/experiment"])
    params = {k: v.string_value or v.number_value for k, v in start.session_start_info.hparams.items()}
    return params, [m.name.tag for m in experiment.experiment.metric_infos]


def test_default_run_reaches_95_percent_and_fills_its_folder(train):
    run = train()  # exactly what `make train` runs
    assert (run / ".hydra" / "config.yaml").exists()
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"best.ckpt", "last.ckpt"}
    s = scalars(run)
    assert s["test/acc"][-1] >= 0.95
    assert {"train/loss", "val/loss", "val/acc", "train/acc", "val/entropy", "lr-Adam"} <= set(s)
    assert len(s["val/loss"]) == 20, "one validation point per epoch"
    ea = event_accumulator(run)
    assert "test/confusion_matrix" in ea.Tags()["images"]
    assert {"weights/net.layers.1.weight", "grads/net.layers.1.weight"} <= set(ea.Tags()["histograms"])
    params, metrics = hparams_of(run)
    assert params["loss"] == "cross_entropy" and params["optimizer/lr"] == pytest.approx(1e-3)
    assert params["model/net/num_hiddens"] == "[256]"
    assert {"val/loss", "val/acc", "test/acc"} <= set(metrics)
    ckpt = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    assert ckpt["dlstudy_config"]["shapes"]["num_inputs"] == 64


@pytest.mark.parametrize("overrides", [
    *[("data=synthetic_classification", f"loss={loss}") for loss in CLASSIFIER_LOSSES],
    ("data=synthetic_classification", "data.dataset=spirals", "data.num_classes=3", "init=kaiming_normal"),
    *[("model=linear_regression", f"loss={loss}", "optimizer=sgd") for loss in REGRESSION_LOSSES],
    *[("model=mlp_regressor", f"loss={loss}", "scheduler=cosine") for loss in ("mse", "gaussian_nll")],
    ("model=mlp_regressor", "model.net.num_hiddens=[8]", "data=synthetic_regression", "scheduler=step"),
], ids=lambda o: " ".join(o))
def test_model_data_loss_combinations_train(train, overrides):
    run = train("debug=fast", *overrides)
    s = scalars(run)
    assert len(s["train/loss"]) == 3 and all(torch.isfinite(torch.tensor(s["train/loss"])))
    assert "test/loss" in s
    if "model=mlp_regressor" in overrides:
        assert "test/r2" in s and "test/predictions" in event_accumulator(run).Tags()["images"]


def test_seed_is_honoured_including_zero(train, tmp_path):
    def first_losses(seed, name):
        return scalars(train("debug=fast", f"seed={seed}", run_dir=tmp_path / name))["train/loss"]
    zero = first_losses(0, "a")
    assert first_losses(0, "b") == zero
    assert first_losses(42, "c") != zero


def test_logging_less_often_drops_points_but_never_shifts_them(train, tmp_path):
    """train/loss at step s is the loss of batch s, however often the logger writes."""
    fast = ["debug=fast", "trainer.limit_train_batches=6", "trainer.deterministic=true"]
    every = series(train(*fast, "trainer.log_every_n_steps=1", run_dir=tmp_path / "every"))["train/loss"]
    third = series(train(*fast, "trainer.log_every_n_steps=3", run_dir=tmp_path / "third"))["train/loss"]
    assert [s for s, _ in every] == list(range(6))
    assert third == [every[2], every[5]]


def test_multirun_gives_one_folder_and_tensorboard_run_per_job(train, tmp_path):
    sweep = train("-m", "debug=fast", "loss=cross_entropy,square", run_dir=tmp_path / "sweep")
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir() and p.name[0].isdigit())
    assert jobs == ["0_loss=cross_entropy", "1_loss=square"]
    for job, loss in zip(jobs, ("cross_entropy", "square")):
        assert list((sweep / job).glob("events.out.tfevents.*"))
        params, _ = hparams_of(sweep / job)
        assert params["loss"] == loss
        assert "test/acc" in scalars(sweep / job)


@pytest.mark.parametrize("overrides, message", [
    (("model=linear_regression", "loss=cross_entropy"), "classification loss"),
    (("model=linear_regression", "loss=gaussian_nll", "model.net.out_features=1"), "must give 2"),
    (("loss=mse",), "regression loss"),
    (("optimizer.lr=0",), "optimizer.lr must be > 0"),
    (("optimizer=sgd", "optimizer.lr=-0.5"), "optimizer.lr must be > 0"),
    (("model.net.num_hiddens=[64,0]",), "num_hiddens must be a list of positive integers"),
    (("data.batch_size=0",), "batch_size must be a positive integer"),
    (("++data.val_fraction=1.5",), r"val_fraction must be in \(0, 1\)"),
    (("model=mlp_classifier", "data=synthetic_regression"), "is for classification"),
    (("data=mnist", "paths.data_dir=/proc/no-such-dir"), "data_dir: cannot create"),
    (("data=mnist", "data.val_size=0"), r"val_size must be in \(0, 60000\)"),
], ids=lambda o: " ".join(o) if isinstance(o, tuple) else None)
def test_bad_input_stops_before_training_with_one_line(train, tmp_path, capsys, overrides, message):
    run_dir = tmp_path / "bad"
    with pytest.raises(SystemExit) as exit_info:
        train(*overrides, run_dir=run_dir)
    assert exit_info.value.code == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1
    assert re.search(message, err[0]), err[0]
    assert not (run_dir / "checkpoints").exists() and not list(run_dir.glob("events.*")), "nothing trained"


def test_progress_bar_redraws_every_n_batches_and_at_the_last(monkeypatch):
    from lightning.pytorch.callbacks import RichProgressBar

    from dlstudy.callbacks.progress import ProgressBar
    from tests.callbacks.test_guards import NaNAt, loader
    from tests.conftest import quick_trainer

    drawn = []
    monkeypatch.setattr(RichProgressBar, "on_train_batch_end", lambda self, t, m, o, b, i: drawn.append(i))
    trainer = quick_trainer(max_epochs=1, enable_progress_bar=True, callbacks=[ProgressBar(every_n_batches=3)])
    trainer.fit(NaNAt(bad_step=-1), train_dataloaders=loader(batch_size=8))  # 8 batches
    assert drawn == [2, 5, 7]


@pytest.mark.parametrize("args, composed, mode", [
    ([], 1, "run"),  # Hydra alone composes twice: once to read hydra.mode, once to run
    (["hydra.mode=MULTIRUN"], 2, "sweep"),  # the command line sets the mode: Hydra reads it as it always does
])
def test_a_run_composes_its_config_once_unless_the_command_line_sets_the_mode(train, tmp_path, monkeypatch, args,
                                                                              composed, mode):
    from hydra._internal.hydra import Hydra

    calls = []
    compose = Hydra.compose_config
    monkeypatch.setattr(Hydra, "compose_config", lambda self, *a, **k: calls.append(k.get("run_mode")) or
                        compose(self, *a, **k))
    out = tmp_path / "out"
    train("trainer.max_epochs=1", "trainer.limit_train_batches=2", f"hydra.sweep.dir={out}", *args, run_dir=out)
    assert len(calls) == composed
    statuses = list(out.rglob("status.json"))
    assert len(statuses) == 1 and (statuses[0].parent == out) == (mode == "run")
    assert Hydra.get_mode is not None and Hydra.get_mode.__name__ == "get_mode"  # put back after the run


@pytest.mark.parametrize("loop", ["callbacks.multistep=null", "callbacks.multistep.steps=16"])
def test_log_every_n_steps_0_means_no_step_curves_under_either_loop(train, tmp_path, loop):
    run = train("trainer.max_epochs=1", "trainer.log_every_n_steps=0", loop)
    s = scalars(run)
    assert "train/loss" not in s and len(s["lr-Adam"]) == 1  # the monitor's once-an-epoch point only
    assert len(s["val/loss"]) == 1 and s["test/acc"][-1] > 0.5
