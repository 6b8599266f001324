"""Resume after a kill, determinism, divergence, safe outputs and the errors that protect a sweep."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from dlstudy.runs import read_status, unique_dir
from tests.conftest import QUIET, scalars, series

DETERMINISTIC = ["data.batch_size=16", "trainer.deterministic=true", "callbacks.histograms=null"]


def weights(run_dir):
    return torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]


def assert_same_run(a, b):
    sa, sb = scalars(a), scalars(b)
    for tag in ("val/loss", "val/acc", "test/acc", "test/loss", "train/acc"):
        assert sa[tag] == sb[tag], tag
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    assert all(torch.equal(wa[k], wb[k]) for k in wa), [k for k in wa if not torch.equal(wa[k], wb[k])]


@pytest.mark.slow
def test_same_seed_gives_identical_metric_series(train, tmp_path):
    a = train("trainer.max_epochs=3", *DETERMINISTIC, run_dir=tmp_path / "a")
    b = train("trainer.max_epochs=3", *DETERMINISTIC, run_dir=tmp_path / "b")
    assert scalars(a)["train/loss"] == scalars(b)["train/loss"]
    assert_same_run(a, b)
    assert read_status(a)["status"] == "finished"


@pytest.mark.slow
def test_killed_subprocess_resumes_to_the_same_result(train, tmp_path, monkeypatch):
    """SIGTERM a real training process after epoch 2, resume it, and match an uninterrupted run exactly."""
    overrides = ["trainer.max_epochs=5", *DETERMINISTIC, *QUIET]
    reference = train(*overrides, run_dir=tmp_path / "reference")

    run_dir = tmp_path / "killed"
    exe = os.path.join(os.path.dirname(sys.executable), "dlstudy-train")
    proc = subprocess.Popen([exe, *overrides, f"hydra.run.dir={run_dir}"], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if last.exists() and torch.load(last, weights_only=True)["epoch"] >= 1:  # epoch 2 done
            proc.send_signal(signal.SIGTERM)
            break
        time.sleep(0.02)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert read_status(run_dir)["status"] == "interrupted"
    assert torch.load(last, weights_only=True)["global_step"] < 5 * 79, "stopped before the end"

    monkeypatch.setattr(sys, "argv", ["dlstudy-train", f"resume={run_dir}"])
    from dlstudy.train import main
    main()
    assert read_status(run_dir)["status"] == "finished"
    assert_same_run(reference, run_dir)
    assert (run_dir / ".hydra" / "resumed-1" / "overrides.yaml").exists()


@pytest.mark.slow
@pytest.mark.parametrize("loop, kill, stop, epoch", [
    ("callbacks.multistep=null", 100, 101, 1), ("callbacks.multistep.steps=16", 100, 127, 1),  # mid-epoch
    ("callbacks.multistep=null", 78, 79, 1), ("callbacks.multistep.steps=64", 60, 79, 1),  # in epoch 1's last batch
    # in the batch (or group) before a mid-epoch validation: with 79 batches, validation after 39, 78 and 79; with
    # 64, groups of 32 and validation after each
    ("callbacks.multistep=null,trainer.val_check_interval=0.5", 38, 39, 0),
    ("callbacks.multistep.steps=64,trainer.val_check_interval=0.5,trainer.limit_train_batches=64", 0, 32, 0),
])
def test_stopped_at_a_chosen_step_resumes_to_the_same_metric_series(train, tmp_path, monkeypatch, loop, kill, stop,
                                                                    epoch):
    """SIGTERM at step `kill` (79 batches an epoch), resume, and match an uninterrupted run tag by tag. Lightning's
    loop stops after that batch (step 100: epoch 2, batch 22); multistep after its group (steps 111-126 in groups of
    16 from 79; steps 64-78, the last group of epoch 1, in groups of 64). A stop in an epoch's last batch comes after
    the epoch's validation and epoch metrics, which a resume would not write again."""
    overrides = ["trainer.max_epochs=2", *DETERMINISTIC, "trainer.log_every_n_steps=7", *loop.split(",")]
    reference = train(*overrides, run_dir=tmp_path / "reference")
    run_dir = tmp_path / "stopped"
    with pytest.raises(SystemExit) as e:
        train(*overrides, f"+callbacks.kill={{_target_:tests.helpers.signals.SignalAtStep,step:{kill},signum:SIGTERM}}",
              run_dir=run_dir)
    assert e.value.code == 128 + signal.SIGTERM
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=True)
    assert (ckpt["global_step"], ckpt["epoch"]) == (stop, epoch), "the signalled batch finishes, then the run stops"

    monkeypatch.setattr(sys, "argv", ["dlstudy-train", f"resume={run_dir}"])
    from dlstudy.train import main
    main()
    a, b = series(reference), series(run_dir)
    assert a.keys() == b.keys()
    names = [sorted(p.name for p in (r / "checkpoints").iterdir()) for r in (reference, run_dir)]
    assert names[0] == names[1], "no last-v1.ckpt or best-v1.ckpt beside the run's own"
    for tag in a:
        assert a[tag] == b[tag], tag
    assert_same_run(reference, run_dir)


@pytest.mark.slow
def test_resume_auto_picks_the_interrupted_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    overrides = ["trainer.max_epochs=3", *DETERMINISTIC, *QUIET]
    # 79 batches an epoch, in groups of 64 and 15: the signal comes at the batch of step 79 (the first group of
    # epoch 2), and the run stops after that group, mid-epoch
    kill = "+callbacks.kill={_target_:tests.helpers.signals.SignalAtStep,step:70}"
    from dlstudy.train import main
    monkeypatch.setattr(sys, "argv", ["dlstudy-train", *overrides, kill])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 128 + signal.SIGINT
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert read_status(run_dir)["status"] == "interrupted"

    monkeypatch.setattr(sys, "argv", ["dlstudy-train", *overrides, kill, "resume=auto"])
    main()
    assert [p.name for p in (tmp_path / "outputs" / "runs").iterdir()] == [run_dir.name], "no new folder"
    assert read_status(run_dir)["status"] == "finished"
    assert len(scalars(run_dir)["val/loss"]) == 3


def test_divergence_stops_within_a_step_with_its_own_exit_status(train, tmp_path, capsys):
    run_dir = tmp_path / "div"
    with pytest.raises(SystemExit) as e:
        train("model=linear_regression", "optimizer=sgd", "optimizer.lr=1e10", "trainer.log_every_n_steps=1",
              run_dir=run_dir)
    assert e.value.code == 3
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.startswith("error:")]
    assert "diverged" in line and "at step" in line and "lr = 1e10" in line.replace("10000000000.0", "1e10")
    status = read_status(run_dir)
    assert status["status"] == "diverged"
    s = scalars(run_dir)
    assert s["status/diverged"] == [1.0]
    assert len(s["train/loss"]) <= 10, "stopped at the first non-finite loss"


def test_sweep_survives_diverged_and_failed_jobs(train, tmp_path, capsys):
    sweep = train("-m", "model=linear_regression", "optimizer=sgd", "optimizer.lr=0.01,1e10,-1", "debug=fast",
                  "trainer.log_every_n_steps=1", run_dir=tmp_path / "sweep")
    statuses = {p.name.split("_")[0]: read_status(p)["status"] for p in sweep.iterdir() if p.is_dir()}
    assert statuses == {"0": "finished", "1": "diverged", "2": "failed"}
    assert "1 finished, 1 diverged, 1 failed" in capsys.readouterr().out


def test_unique_run_folders(tmp_path):
    base = str(tmp_path / "2026-01-01_00-00-00")
    assert [unique_dir(base) for _ in range(3)] == [base, f"{base}-1", f"{base}-2"]


@pytest.mark.parametrize("case, message", [("missing", "no .hydra/overrides.yaml"), ("not_a_run", "no .hydra/overrides.yaml"),
                                           ("no_last", "has no checkpoints/last.ckpt"), ("finished", "is finished")])
def test_resume_errors_are_one_line_and_touch_nothing(train, tmp_path, monkeypatch, capsys, case, message):
    target = {"missing": tmp_path / "missing", "not_a_run": tmp_path}.get(case)
    if case in ("finished", "no_last"):
        target = train("debug=fast", run_dir=tmp_path / "done")
    if case == "no_last":
        (target / "checkpoints" / "last.ckpt").unlink()
    before = sorted(p.name for p in tmp_path.rglob("*"))
    from dlstudy.train import main
    monkeypatch.setattr(sys, "argv", ["dlstudy-train", f"resume={target}"])
    with pytest.raises(SystemExit) as e:
        main()
    assert e.value.code == 2
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.startswith("error:")]
    assert line.startswith("error: resume:") and message in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


CRASH = "+callbacks.crash={_target_:tests.helpers.signals.RaiseAtStep,step:1}"


def test_a_crash_exits_1_and_records_failed(train, tmp_path):
    with pytest.raises(SystemExit) as e:
        train("debug=fast", CRASH, run_dir=tmp_path / "run")
    assert e.value.code == 1
    status = read_status(tmp_path / "run")
    assert status["status"] == "failed" and status["message"] == "RuntimeError: crash at step 1"


def test_a_crashing_job_does_not_stop_its_sweep(train, tmp_path, capsys):
    sweep = train("-m", "debug=fast", CRASH, "callbacks.crash.step=1,1000", run_dir=tmp_path / "sweep")
    statuses = {p.name.split("_")[0]: read_status(p) for p in sweep.iterdir() if p.is_dir()}
    assert {k: s["status"] for k, s in statuses.items()} == {"0": "failed", "1": "finished"}
    assert statuses["0"]["message"] == "RuntimeError: crash at step 1"
    assert "1 finished, 0 diverged, 1 failed" in capsys.readouterr().out
