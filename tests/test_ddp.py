"""DDP on two CPU processes (gloo): the ranks share the data, each sample once, and report the one-process metrics."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

from dlstudy.build import build
from dlstudy.callbacks.run_config import KEY
from dlstudy.runs import read_status
from tests.conftest import QUIET, quick_trainer

ROOT = Path(__file__).resolve().parents[1]


def rows(X: torch.Tensor) -> list[tuple]:
    return sorted(map(tuple, X.flatten(1).tolist()))


@pytest.mark.slow
def test_two_cpu_ranks_agree(tmp_path):
    """Digits: 359 test and 180 validation images, odd and even, each seen by exactly one rank."""
    weights = tmp_path / "weights"
    exe = Path(sys.executable).with_name("dlstudy-train")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(exe), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "debug=fast",
                             f"hydra.run.dir={tmp_path / 'run'}", *QUIET,
                             "trainer.limit_val_batches=1.0", "trainer.limit_test_batches=1.0",
                             f"+callbacks.save_weights={{_target_:tests.helpers.ddp.SaveRankWeights,path:'{weights}'}}",
                             f"+callbacks.save_inputs={{_target_:tests.helpers.ddp.SaveRankInputs,path:'{weights}'}}"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    w0, w1 = (torch.load(weights / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert w0["batches"] == w1["batches"] == 3
    assert all(torch.equal(w0[k], w1[k]) for k in w0 if k != "batches"), "DDP keeps the ranks in step"
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()

    seen = [torch.load(weights / f"inputs{r}.pt", weights_only=True) for r in (0, 1)]
    run = tmp_path / "run"
    ckpt = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    datamodule, system = build(OmegaConf.create(ckpt[KEY]))
    datamodule.setup()
    for split in ("val", "test"):
        X = datamodule.splits[split][0]
        assert rows(torch.cat([s[split] for s in seen])) == rows(X), f"every {split} sample once across the ranks"
        assert abs(len(seen[0][split]) - len(seen[1][split])) <= 1

    system.load_state_dict(ckpt["state_dict"])
    (alone,) = quick_trainer().test(system, datamodule=datamodule, verbose=False)
    together = read_status(run)["metrics"]
    assert together["test/acc"] == alone["test/acc"], "the ranks' accuracy is the one-process accuracy"
    assert together["test/loss"] == pytest.approx(alone["test/loss"], rel=1e-5)


@pytest.mark.slow
def test_a_signal_to_one_rank_stops_both_after_the_same_batch(tmp_path):
    """SIGTERM reaches rank 1 alone: both ranks stop after that batch and rank 0 saves it, instead of one rank
    waiting forever in a collective the other never joins."""
    exe = Path(sys.executable).with_name("dlstudy-train")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(exe), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "trainer.max_epochs=2",
                             f"hydra.run.dir={tmp_path / 'run'}", *QUIET,
                             "+callbacks.kill={_target_:tests.helpers.signals.SignalAtStep,step:3,signum:SIGTERM,rank:1}"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 143, result.stderr[-3000:]
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 4, "saved after the batch rank 1 was signalled in"
