"""fast_log: `_ResultMetric.to` skips Lightning's copy only when the copy would change nothing."""

import dataclasses

import pytest
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _Metadata, _ResultCollection, _ResultMetric
from lightning.pytorch.utilities.signature_utils import is_param_in_hook_signature
from torchmetrics import MeanMetric

from dlstudy import fast_log

CPU, META = torch.device("cpu"), torch.device("meta")


def every_tensor(value, seen=None) -> list[torch.Tensor]:
    """Every tensor apply_to_collection would reach in `value` (dicts, lists, tuples, dataclasses, recursively)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif not isinstance(value, (list, tuple)):
        return []
    return [t for v in value for t in every_tensor(v)]


def logged(reduce_fx="mean") -> _ResultMetric:
    """A tensor-logging _ResultMetric as Lightning's result collection makes it, after two logged steps and the
    epoch's compute: every cache is set."""
    results = _ResultCollection(training=True)
    for value in (2.0, 3.0):
        results.log("training_step", "train/loss", torch.tensor(value), on_step=True, on_epoch=True,
                    reduce_fx=reduce_fx, batch_size=4)
    metric = results["training_step.train/loss"]
    metric.compute()
    return metric


@pytest.mark.parametrize("reduce_fx", ["mean", "sum", "max"])
def test_the_fast_path_checks_every_tensor_lightnings_copy_would_move(reduce_fx):
    """The oracle is the metric's own __dict__: if a Lightning release adds a tensor, this fails."""
    metric = logged(reduce_fx)
    assert metric._computed is not None and metric._forward_cache is not None
    held = {id(t) for t in fast_log.held_tensors(metric) if t is not None}
    assert {id(t) for t in every_tensor(metric.__dict__)} == held


def test_nothing_to_move_returns_the_same_metric_without_lightnings_copy(monkeypatch):
    metric = logged()
    before = dict(metric.__dict__)
    monkeypatch.setattr(fast_log, "_lightning_to", lambda *a, **k: pytest.fail("Lightning's copy ran"))
    monkeypatch.setattr(_ResultMetric, "to", fast_log._to)
    assert metric.to(CPU) is metric
    assert all(metric.__dict__[k] is v for k, v in before.items())


@pytest.mark.parametrize("args", [(META,), ("cpu",), (CPU, torch.float64)])
def test_a_move_or_another_signature_goes_to_lightning(monkeypatch, args):
    calls = []
    monkeypatch.setattr(fast_log, "_lightning_to", lambda self, *a, **k: calls.append(a) or self)
    monkeypatch.setattr(_ResultMetric, "to", fast_log._to)
    logged().to(*args)
    assert calls == [args]


def test_a_real_move_still_moves_every_tensor(monkeypatch):
    monkeypatch.setattr(_ResultMetric, "to", fast_log._to)
    metric = logged().to(META)
    assert {t.device for t in every_tensor(metric.__dict__)} == {META}


def test_a_torchmetrics_value_goes_to_lightning(monkeypatch):
    calls = []
    monkeypatch.setattr(fast_log, "_lightning_to", lambda self, *a, **k: calls.append(a) or self)
    monkeypatch.setattr(_ResultMetric, "to", fast_log._to)
    metric = _ResultMetric(_Metadata(fx="training_step", name="m"), is_tensor=False)
    metric.value = MeanMetric()
    metric.to(CPU)
    assert calls == [(CPU,)]


class Hooks:
    def training_step(self, batch, batch_idx): ...
    def with_iterator(self, dataloader_iter): ...
    def with_varargs(self, *args): ...
    @staticmethod
    def plain(batch): ...


@pytest.mark.parametrize("name", ["training_step", "with_iterator", "with_varargs", "plain"])
@pytest.mark.parametrize("param, explicit, min_args", [("dataloader_iter", True, None), ("batch_idx", False, 2),
                                                       ("dataloader_idx", False, None)])
def test_the_cached_signature_check_answers_as_lightnings(name, param, explicit, min_args):
    for hook in (getattr(Hooks(), name), getattr(Hooks, name)):
        for _ in range(2):  # the second answer comes from the cache
            assert fast_log.in_signature(hook, param, explicit, min_args) == \
                is_param_in_hook_signature(hook, param, explicit, min_args)


def test_install_reaches_the_per_call_sites():
    from lightning.pytorch.core import module
    from lightning.pytorch.loops import training_epoch_loop

    fast_log.install()
    assert module.is_param_in_hook_signature is training_epoch_loop.is_param_in_hook_signature is fast_log.in_signature
    assert _ResultMetric.to is fast_log._to


def test_a_run_writes_the_same_curves_histograms_and_weights_with_and_without_it(train, tmp_path):
    from tests.test_multistep import assert_same, record

    common = ["trainer.max_epochs=2", "trainer.log_every_n_steps=3", "callbacks.histograms.every_n_steps=7",
              "callbacks=diagnostics", "callbacks.diagnostics.every_n_steps=5"]
    assert_same(record(train(*common, "callbacks.fast_log=null", run_dir=tmp_path / "lightning")),
                record(train(*common, run_dir=tmp_path / "fast")))


def test_the_callback_holds_the_fast_paths_for_the_fit_only():
    import lightning as L
    from lightning.pytorch.core import module

    from dlstudy.data import DigitsDataModule
    from dlstudy.models import Classifier
    from dlstudy.nets import MLP
    from tests.conftest import quick_trainer

    seen = []

    class Probe(L.Callback):
        def on_train_batch_end(self, *args):
            seen.append((_ResultMetric.to, module.is_param_in_hook_signature))

    trainer = quick_trainer(max_steps=2, callbacks=[fast_log.FastLog(), Probe()])
    trainer.fit(Classifier(MLP(64, [8], 10), num_classes=10), datamodule=DigitsDataModule())
    assert seen == [(fast_log._to, fast_log.in_signature)] * 2
    assert _ResultMetric.to is fast_log._lightning_to
    assert module.is_param_in_hook_signature is is_param_in_hook_signature
