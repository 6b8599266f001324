"""Several optimizer steps per Lightning step (dlstudy.multistep) give the run of Lightning's own loop, bit for bit."""

import json

import lightning as L
import pytest
import torch

from dlstudy.callbacks import DivergenceGuard
from dlstudy.data import DigitsDataModule
from dlstudy.direct_step import DirectStep
from dlstudy.models import Classifier
from dlstudy.multistep import MultiStep
from dlstudy.nets import MLP
from tests.conftest import event_accumulator, quick_trainer

LIGHTNING = "callbacks.multistep=null"  # Lightning's own loop: one optimizer step per training_step


def record(run_dir) -> dict:
    """Every scalar as (step, value) pairs, every histogram's steps and buckets, and the final weights."""
    ea = event_accumulator(run_dir)
    out = {tag: [(e.step, e.value) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}
    out |= {tag: [(e.step, e.histogram_value.bucket) for e in ea.Histograms(tag)] for tag in ea.Tags()["histograms"]}
    weights = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    return out | {f"weights/{k}": v.tolist() for k, v in weights.items()}


def both(train, tmp_path, *overrides: str) -> tuple[dict, dict]:
    """The same run through Lightning's loop and through multistep, which must really group its steps."""
    count = f"+callbacks.count={{_target_:tests.helpers.steps.CountBatches,path:'{tmp_path / 'count.json'}'}}"
    a = record(train(*[o for o in overrides if "multistep" not in o], LIGHTNING, run_dir=tmp_path / "lightning"))
    b = record(train(*overrides, count, run_dir=tmp_path / "multistep"))
    counts = json.loads((tmp_path / "count.json").read_text())
    assert counts["batches"] < counts["steps"], "multistep ran several optimizer steps per Lightning batch"
    return a, b


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for tag in a:
        assert a[tag] == b[tag], tag


@pytest.mark.parametrize("overrides", [
    # curves at odd intervals (train/loss and lr every 3 steps, histograms every 7, diagnostics every 5),
    # clipping by norm, an epoch-interval scheduler that steps every epoch
    ["trainer.max_epochs=2", "trainer.log_every_n_steps=3", "callbacks.histograms.every_n_steps=7",
     "callbacks=diagnostics", "callbacks.diagnostics.every_n_steps=5", "scheduler=step", "scheduler.step_size=1",
     "trainer.gradient_clip_val=0.05"],
    # validation every 6 of 20 batches (groups shrink to 2), clipping by value, bfloat16 autocast on the CPU
    # (Lightning refuses to clip a fused optimizer under autocast)
    ["trainer.max_epochs=2", "trainer.val_check_interval=6", "trainer.gradient_clip_val=0.01",
     "trainer.gradient_clip_algorithm=value", "trainer.precision=bf16-mixed", "optimizer.fused=false"],
    # groups of 7; a batch limit, validation at half the limited epoch, a step limit inside the second epoch
    ["trainer.max_epochs=3", "trainer.limit_train_batches=14", "trainer.val_check_interval=0.5",
     "trainer.max_steps=21", "callbacks.multistep.steps=7", "trainer.log_every_n_steps=4"],
    # the recurrent chapter: seqgrad/* (d loss / d input per time step) and grad/* every 5 steps, each with the
    # batch and the weights of its own step
    ["experiment=rnn_clipping", "trainer.max_epochs=1", "trainer.limit_train_batches=40",
     "callbacks.sequence_gradients.every_n_steps=5", "callbacks.multistep.steps=16"],
], ids=["curves-clip-scheduler", "validation-bf16", "limits", "sequence-gradients"])
def test_multistep_run_equals_lightnings_loop(train, tmp_path, overrides):
    assert_same(*both(train, tmp_path, *overrides))


@pytest.mark.parametrize("factor", ["null", "1e4"])
def test_divergence_is_named_at_its_step(train, tmp_path, capsys, factor):
    """The guard names the same step, and the curves stop at the same place: a non-finite loss after the first
    group (factor null: NaN/inf only), or a finite explosion inside the first group (the default factor)."""
    runs, lines = [], []
    for name, extra in (("lightning", [LIGHTNING]), ("multistep", [])):
        with pytest.raises(SystemExit):
            train("model=linear_regression", "optimizer=sgd", "optimizer.lr=3", "trainer.log_every_n_steps=1",
                  f"+divergence.max_loss_factor={factor}", *extra, run_dir=tmp_path / name)
        lines.append([l for l in capsys.readouterr().err.splitlines() if l.startswith("error:")])
        ea = event_accumulator(tmp_path / name)
        runs.append({tag: [(e.step, e.value) for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]})
    assert lines[0] == lines[1] and "at step" in lines[0][0]
    assert runs[0] == runs[1]
    if factor == "null":
        assert len(runs[1]["train/loss"]) > 16, "diverged after the first group: the guard saw a vector of losses"
    else:
        assert len(runs[1]["train/loss"]) < 16 and "times the first loss" in lines[1][0]


def test_resume_mid_epoch_equals_an_uninterrupted_run(train, tmp_path, monkeypatch):
    """Stopped by SIGINT in the middle of epoch 1 (after the group of steps 28-31), then resumed."""
    import sys

    from dlstudy.runs import read_status
    from dlstudy.train import main

    overrides = ["trainer.max_epochs=2", "callbacks.multistep.steps=4"]
    reference = record(train(overrides[0], LIGHTNING, run_dir=tmp_path / "reference"))
    kill = "+callbacks.kill={_target_:tests.helpers.signals.SignalAtStep,step:28}"
    run_dir = tmp_path / "killed"
    with pytest.raises(SystemExit):
        train(*overrides, kill, run_dir=run_dir)
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 32 and ckpt["epoch"] == 1, "stopped mid-epoch, at the end of a group"
    monkeypatch.setattr(sys, "argv", ["dlstudy-train", f"resume={run_dir}"])
    main()
    assert read_status(run_dir)["status"] == "finished"
    resumed = record(run_dir)
    for tag in reference:
        if not tag.startswith("weights/") and tag != "epoch":
            assert reference[tag] == resumed[tag], tag
    assert all(reference[t] == resumed[t] for t in reference if t.startswith("weights/"))


class StepScheduled(Classifier):
    """A classifier whose scheduler steps every 3 optimizer steps (interval "step", frequency 3)."""

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=0.5, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.8)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 3}}


@pytest.mark.parametrize("steps", [5, 16])
def test_step_interval_scheduler(steps):
    def fit(multistep: MultiStep):
        L.seed_everything(0)
        system = StepScheduled(MLP(64, [32], 10), num_classes=10)
        trainer = quick_trainer(max_epochs=2, callbacks=[multistep, DivergenceGuard()])
        trainer.fit(system, datamodule=DigitsDataModule(batch_size=64))
        return system, trainer

    a, ta = fit(MultiStep(1))
    b, tb = fit(MultiStep(steps))
    assert ta.global_step == tb.global_step == 40
    lr = ta.optimizers[0].param_groups[0]["lr"]
    assert lr == tb.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.5 * 0.8 ** 12), "every 3rd of 20 batches"
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert b.multistep is None, "the system is left for a fit by Lightning's loop"


class OwnClipping(Classifier):
    """A system with its own clipping rule, which Lightning calls at every step, clip value or not."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clipped_at = []

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        self.clipped_at.append(self.trainer.global_step)
        torch.nn.utils.clip_grad_norm_(self.parameters(), 0.05)


def test_a_systems_own_clipping_runs_at_every_step_as_in_lightnings_loop():
    def fit(steps: int):
        L.seed_everything(0)
        system = OwnClipping(MLP(64, [8], 10), num_classes=10)
        quick_trainer(max_epochs=1, callbacks=[MultiStep(steps)]).fit(system, datamodule=DigitsDataModule())
        return system

    a, b = fit(1), fit(8)
    assert a.clipped_at == b.clipped_at == list(range(20))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_a_checkpoint_of_lightnings_loop_resumes_at_its_step(tmp_path):
    """Lightning counts manual and automatic optimizer steps apart; an epoch's checkpoint of a run made before
    multistep (or with callbacks.multistep=null) goes on from its step."""
    before, after = 1, 4
    def fit(steps: int, epochs: int, ckpt_path=None):
        trainer = quick_trainer(max_epochs=epochs, callbacks=[MultiStep(steps)])
        trainer.fit(Classifier(MLP(64, [8], 10), num_classes=10), datamodule=DigitsDataModule(), ckpt_path=ckpt_path)
        return trainer

    fit(before, 1).save_checkpoint(tmp_path / "one.ckpt")
    assert fit(after, 2, tmp_path / "one.ckpt").global_step == 40


def test_multistep_must_come_first():
    system = Classifier(MLP(64, [8], 10), num_classes=10)
    trainer = quick_trainer(max_epochs=1, callbacks=[DivergenceGuard(), MultiStep(4)])
    with pytest.raises(ValueError, match="first callback"):
        trainer.fit(system, datamodule=DigitsDataModule())


@pytest.mark.parametrize("bad", [0, -1, 2.5])
def test_bad_steps(bad):
    with pytest.raises(ValueError, match="steps"):
        MultiStep(bad)


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available here")


@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed"])
@pytest.mark.gpu
@needs_cuda
def test_on_the_gpu_multistep_follows_lightnings_loop(train, tmp_path, precision):
    """With the data on the GPU, multistep writes every curve at Lightning's steps, with Lightning's values up to
    float rounding (a GPU's kernels are not promised to be bitwise reproducible), and ends at the same weights."""
    a, b = both(train, tmp_path, "trainer=gpu", "data.on_device=true", "trainer.max_epochs=2",
                "trainer.log_every_n_steps=3", "callbacks.histograms.every_n_steps=7", "scheduler=step",
                "scheduler.step_size=1", f"trainer.precision={precision}")
    assert a.keys() == b.keys()
    for tag in a:
        if tag.startswith("weights/"):
            torch.testing.assert_close(torch.tensor(b[tag]), torch.tensor(a[tag]), rtol=1e-4, atol=1e-5, msg=tag)
        else:
            assert [s for s, _ in a[tag]] == [s for s, _ in b[tag]], tag
            if isinstance(a[tag][0][1], float):  # scalars; histograms' buckets move with rounding
                torch.testing.assert_close(torch.tensor([v for _, v in b[tag]]), torch.tensor([v for _, v in a[tag]]),
                                           rtol=1e-4, atol=1e-5, msg=tag)


@pytest.mark.gpu
@needs_cuda
def test_on_the_gpu_the_steps_of_a_group_never_wait_for_the_device():
    """With the data on the device, nothing inside a group's K steps synchronises with the host."""
    from lightning.pytorch.callbacks import Callback

    devices = set()

    class NoSync(Callback):  # sits right after MultiStep: around training_step only
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            devices.update({str(pl_module.device), str(batch[0].device)})
            torch.cuda.set_sync_debug_mode("error")

        def on_train_batch_end(self, *args):
            torch.cuda.set_sync_debug_mode("default")

    L.seed_everything(0)
    system = Classifier(MLP(64, [32], 10), num_classes=10, optimizer=lambda p: torch.optim.Adam(p, fused=True))
    trainer = quick_trainer(accelerator="gpu", max_epochs=2, callbacks=[MultiStep(8), NoSync(), DivergenceGuard()])
    try:
        trainer.fit(system, datamodule=DigitsDataModule(batch_size=64, on_device=True))
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert trainer.global_step == 40
    assert devices == {"cuda:0"}, "the weights and the batches were on the GPU (Lightning moves the net back after fit)"


def test_train_loss_is_written_with_the_loss_of_its_own_step(train, tmp_path):
    """Every 5th step's point of the curve is the loss computed at that step (the every-step curve's value)."""
    def curve(run_dir):
        return dict((e.step, e.value) for e in event_accumulator(run_dir).Scalars("train/loss"))

    every = curve(train("trainer.max_epochs=1", "trainer.log_every_n_steps=1", LIGHTNING, run_dir=tmp_path / "a"))
    fifth = {"lightning": curve(train("trainer.max_epochs=1", "trainer.log_every_n_steps=5", LIGHTNING,
                                      run_dir=tmp_path / "b")),
             "multistep": curve(train("trainer.max_epochs=1", "trainer.log_every_n_steps=5", run_dir=tmp_path / "c"))}
    for name, points in fifth.items():
        assert sorted(points) == [4, 9, 14, 19], name
        assert all(points[s] == every[s] for s in points), name


@pytest.mark.parametrize("settings, direct", [
    ({}, True),  # the equivalence tests above run this path, and (validation-bf16) Lightning's
    ({"precision": "bf16-mixed"}, False),
    ({"precision": "16-true"}, False),
    ({"profiler": "simple"}, False),
])
def test_the_group_calls_backward_and_step_itself_only_where_lightning_adds_nothing_else(settings, direct):
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, **settings)
    assert DirectStep.applies(trainer) is direct
