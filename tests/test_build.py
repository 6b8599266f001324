"""build_trainer's side effects on the process."""

import logging

import pytest
import torch

from dlstudy.build import build, build_trainer
from tests.conftest import compose_train


@pytest.mark.skipif(not torch.backends.cuda.is_built() or torch.cuda.is_initialized(),
                    reason="only a CUDA build of torch, before CUDA starts, probes CUDA through NVML")
def test_a_cpu_trainer_stops_adam_probing_nvml_every_step(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTORCH_NVML_BASED_CUDA_CHECK", "1")  # as `import lightning` leaves it
    calls, real = [], torch.cuda._raw_device_count_nvml
    monkeypatch.setattr(torch.cuda, "_raw_device_count_nvml", lambda: calls.append(1) or real())
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters())
    net(torch.ones(1, 2)).sum().backward()
    opt.step()
    assert calls, "with the NVML probe, every Adam step loads NVML"
    cfg = compose_train("trainer=cpu", output_dir=tmp_path)
    build(cfg)  # fills the shapes the run config resolves
    build_trainer(cfg)
    calls.clear()
    opt.step()
    assert not calls


def test_lightning_tips_are_dropped_and_its_other_messages_kept(tmp_path, caplog):
    cfg = compose_train("trainer=cpu", output_dir=tmp_path)
    build(cfg)
    with caplog.at_level(logging.INFO, logger="lightning.pytorch.utilities.rank_zero"):
        build_trainer(cfg)
    messages = [r.getMessage() for r in caplog.records if r.name == "lightning.pytorch.utilities.rank_zero"]
    assert messages and not any("Tip" in m for m in messages), messages
