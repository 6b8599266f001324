"""DDP on two CPU processes (gloo): both ranks train on their half of the data and agree on the weights."""

import os
import subprocess
import sys
from pathlib import Path

import torch

from tests.conftest import QUIET

ROOT = Path(__file__).resolve().parents[1]


def test_two_cpu_ranks_agree(tmp_path):
    weights = tmp_path / "weights"
    exe = Path(sys.executable).with_name("dlstudy-train")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(exe), "trainer=ddp", "trainer.accelerator=cpu", "trainer.devices=2", "debug=fast",
                             f"hydra.run.dir={tmp_path / 'run'}", *QUIET,
                             f"+callbacks.save_weights={{_target_:tests.helpers.ddp.SaveRankWeights,path:'{weights}'}}"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    w0, w1 = (torch.load(weights / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert w0["batches"] == w1["batches"] == 3
    assert all(torch.equal(w0[k], w1[k]) for k in w0 if k != "batches"), "DDP keeps the ranks in step"
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").exists()


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
