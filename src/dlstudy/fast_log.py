"""Lightning's `self.log` without its per-call overheads: the one room for Lightning workarounds made for speed.

`FastLog` (callbacks.fast_log, on by default; `callbacks.fast_log=null` for Lightning's own code) puts two fast
paths in place for the length of a fit or test and takes them out after. Each returns what Lightning's code
returns and skips work that cannot change it. They cut two costs paid on every `self.log` call, each about as
much as a small net's optimizer step on a CPU:

- Lightning moves the logged key's `_ResultMetric` to the value's device with `apply_to_collection` over the
  metric's whole `__dict__` (a dozen hook dicts, a deep copy of its metadata dataclass), about 150 µs, even when
  nothing moves. The fast path: when the metric logs tensors and every tensor it holds already sits on the target
  device, return it as it is, which is what the copy produces, tensor for tensor. Anything else (a real move, a
  torchmetrics object as the logged value) goes to Lightning's own `to`. tests/test_fast_log.py checks that the
  tensors named here are all the ones Lightning's `to` would move.
- `self.log` (and the training loop, once per batch) asks `inspect.getfullargspec` whether `training_step` takes
  `dataloader_iter`. A function's signature does not change, so the answer is cached per function.
"""

import functools

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.core import module as lightning_module
from lightning.pytorch.loops import training_epoch_loop
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultMetric
from lightning.pytorch.utilities.signature_utils import is_param_in_hook_signature as _lightning_in_signature

_lightning_to = _ResultMetric.to  # Lightning's own, put back by uninstall()
CACHES = ("_forward_cache", "_computed")  # tensors a _ResultMetric holds besides its states


def held_tensors(metric: _ResultMetric) -> list:
    """The tensors (or None) a tensor-logging _ResultMetric holds: its states, their defaults, its caches."""
    return [*metric._defaults.values(), *(getattr(metric, name) for name in (*metric._defaults, *CACHES))]


def _to(self: _ResultMetric, *args, **kwargs) -> _ResultMetric:
    if self.is_tensor and len(args) == 1 and not kwargs and isinstance(device := args[0], torch.device):
        if all(t is None or (isinstance(t, torch.Tensor) and t.device == device) for t in held_tensors(self)):
            return self
    return _lightning_to(self, *args, **kwargs)


@functools.cache
def _function_in_signature(fn, param: str, explicit: bool, min_args: int | None) -> bool:
    return _lightning_in_signature(fn, param, explicit, min_args)


def in_signature(hook_fx, param: str, explicit: bool = False, min_args: int | None = None) -> bool:
    """Lightning's is_param_in_hook_signature, cached per function (a bound method's signature, self included, is
    its function's)."""
    fn = getattr(hook_fx, "__func__", hook_fx)
    try:
        return _function_in_signature(fn, param, explicit, min_args)
    except TypeError:  # an unhashable callable
        return _lightning_in_signature(hook_fx, param, explicit, min_args)


SITES = (lightning_module, training_epoch_loop)  # where self.log and the training loop look the signature up


def install() -> None:
    """Put both fast paths in place (idempotent)."""
    _ResultMetric.to = _to
    for site in SITES:
        site.is_param_in_hook_signature = in_signature


def uninstall() -> None:
    """Lightning's own code again."""
    _ResultMetric.to = _lightning_to
    for site in SITES:
        site.is_param_in_hook_signature = _lightning_in_signature


class FastLog(Callback):
    """The fast paths for the length of each fit or test (setup to teardown)."""

    def setup(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        install()

    def teardown(self, trainer: L.Trainer, pl_module, stage: str) -> None:
        uninstall()
