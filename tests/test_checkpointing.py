"""Checkpoints: written atomically, read back with weights_only=True, and every bad one a clear error."""

import argparse
import errno
import os
import pickle
import re
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from torch import nn

from dlstudy.callbacks.run_config import KEY
from dlstudy.checkpointing import AtomicCheckpointIO, load_checkpoint, load_weights


class DiesPartWay:
    """A file that writes half of what it is given, then fails as a full disk does."""

    def __init__(self, f):
        self.f = f

    def write(self, data) -> int:
        self.f.write(bytes(data)[:len(data) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        if name == "fileno":  # no file descriptor: copies go through write(), like any other writer
            raise AttributeError(name)
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def test_a_write_dying_part_way_keeps_the_old_checkpoint_and_leaves_no_temp_file(tmp_path, monkeypatch, request):
    """Every write into the checkpoint folder dies half-way; the system's temp folder is on another
    device where one is at hand (as a tmpfs /tmp is), so that no library's own temp file saves the day."""
    import builtins

    folder, path = tmp_path / "checkpoints", tmp_path / "checkpoints" / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"step": 1, "w": torch.zeros(3)}, path)
    other_device = Path("/dev/shm")
    if other_device.is_dir() and other_device.stat().st_dev != folder.stat().st_dev:
        spare = tempfile.mkdtemp(dir=other_device)
        request.addfinalizer(lambda: shutil.rmtree(spare, ignore_errors=True))
        monkeypatch.setattr(tempfile, "tempdir", spare)
    real_open = builtins.open

    def open_failing(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        inside = isinstance(file, (str, os.PathLike)) and Path(file).resolve().parent == folder.resolve()
        return DiesPartWay(f) if inside and "w" in mode else f

    monkeypatch.setattr(builtins, "open", open_failing)
    with pytest.raises(OSError, match="No space left"):
        AtomicCheckpointIO().save_checkpoint({"step": 2, "w": torch.ones(10_000)}, path)
    monkeypatch.undo()
    old = torch.load(path, weights_only=True)
    assert old["step"] == 1 and torch.equal(old["w"], torch.zeros(3)), "the previous checkpoint is intact"
    assert [p.name for p in folder.iterdir()] == ["last.ckpt"], "no temporary file left behind"


def test_a_save_that_cannot_pickle_leaves_no_temp_file(tmp_path):
    path = tmp_path / "last.ckpt"
    AtomicCheckpointIO().save_checkpoint({"step": 1}, path)
    with pytest.raises((AttributeError, pickle.PicklingError), match="pickle"):  # that error, not the clean-up's
        AtomicCheckpointIO().save_checkpoint({"step": 2, "bad": lambda: None}, path)
    assert torch.load(path, weights_only=True) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_loading_names_every_bad_file(tmp_path):
    truncated = tmp_path / "truncated.ckpt"
    torch.save({KEY: {}, "state_dict": {}}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:40])
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}, "epoch": 1}, foreign)  # a Lightning checkpoint of another project
    code = tmp_path / "code.ckpt"  # it would run code on loading: weights_only refuses it
    torch.save({KEY: {}, "state_dict": {}, "hook": argparse.Namespace(x=1)}, code)
    tensor = tmp_path / "tensor.ckpt"
    torch.save(torch.zeros(2), tensor)
    for path, message in ((tmp_path / "missing.ckpt", f"ckpt_path: no such file: {tmp_path / 'missing.ckpt'}"),
                          (truncated, f"ckpt_path: cannot read {truncated} as a checkpoint ("),
                          (code, f"ckpt_path: cannot read {code} as a checkpoint (UnpicklingError: WeightsUnpickler "
                                "error: Unsupported global: GLOBAL argparse.Namespace was not an allowed global by default)"),
                          (foreign, f"ckpt_path: {foreign} is not a dlstudy checkpoint (it has no run config)"),
                          (tensor, f"ckpt_path: {tensor} is not a dlstudy checkpoint")):
        with pytest.raises(ValueError) as e:
            load_checkpoint(str(path))
        assert str(e.value).startswith(message) and "\n" not in str(e.value)
        if path == truncated:
            assert re.search(r"as a checkpoint \(\w+: \S.*\)$", str(e.value)), "torch's reason, in one line"
        assert e.value.__context__ is None or e.value.__suppress_context__, "no chained traceback"


def test_a_dlstudy_checkpoint_loads_and_its_weights_fit_or_say_why(tmp_path):
    path = tmp_path / "ok.ckpt"
    net = nn.Linear(3, 2)
    torch.save({KEY: {"seed": 1}, "state_dict": net.state_dict()}, path)
    ckpt = load_checkpoint(str(path))
    assert ckpt[KEY] == {"seed": 1}
    other = nn.Linear(3, 2)
    load_weights(other, ckpt)
    assert torch.equal(other.weight, net.weight)
    with pytest.raises(ValueError) as e:
        load_weights(nn.Linear(4, 2), ckpt)
    assert str(e.value).startswith("ckpt_path: its weights do not fit the model its config builds (size mismatch for weight")
    with pytest.raises(ValueError, match=r"do not fit .*\(Missing key\(s\) in state_dict"):
        load_weights(nn.Sequential(nn.Linear(3, 2)), ckpt)
