"""Run folders: status files, unique names, and which run `resume=` picks (no training: fast)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dlstudy.runs import (STATUS_FILE, newest_resumable, read_status, resumable, resume_args, unique_dir,
                          write_status)


def make_run(root: Path, name: str, overrides: list[str], status: str | None = "interrupted", ckpt: bool = True,
             pid: int | None = None) -> Path:
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if ckpt:
        (run / "checkpoints").mkdir()
        (run / "checkpoints" / "last.ckpt").write_bytes(b"")
    if status:
        (run / STATUS_FILE).write_text(json.dumps({"status": status, "pid": pid}))
    return run


def test_status_is_written_whole_with_its_details_and_read_back(tmp_path):
    write_status(tmp_path, "finished", metrics={"val/loss": 0.5})
    status = json.loads((tmp_path / STATUS_FILE).read_text())
    assert status == {"status": "finished", "pid": os.getpid(), "metrics": {"val/loss": 0.5}}
    assert read_status(tmp_path) == status
    assert [p.name for p in tmp_path.iterdir()] == [STATUS_FILE], "no temporary file left"


def test_only_rank_zero_writes_a_status(tmp_path, monkeypatch):
    from lightning.pytorch.utilities import rank_zero_only

    monkeypatch.setattr(rank_zero_only, "rank", 1)
    write_status(tmp_path, "running")
    assert not (tmp_path / STATUS_FILE).exists()


def test_a_missing_or_damaged_status_reads_as_unknown(tmp_path):
    assert read_status(tmp_path) == {"status": "unknown"}
    (tmp_path / STATUS_FILE).write_text("{half a file")
    assert read_status(tmp_path) == {"status": "unknown"}


def test_unique_run_folders(tmp_path):
    base = str(tmp_path / "2026-01-01_00-00-00")
    assert [unique_dir(base) for _ in range(3)] == [base, f"{base}-1", f"{base}-2"]
    assert all(Path(p).is_dir() for p in (base, f"{base}-1", f"{base}-2"))


def test_unique_dir_gives_up_after_ten_thousand(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "makedirs", lambda p: (_ for _ in ()).throw(FileExistsError(p)))
    with pytest.raises(RuntimeError, match="no free run folder next to"):
        unique_dir(str(tmp_path / "x"))


def test_which_runs_can_resume(tmp_path):
    assert resumable(make_run(tmp_path, "interrupted", []))
    assert resumable(make_run(tmp_path, "running_but_dead", [], status="running", pid=2**22 + 12345))
    assert resumable(make_run(tmp_path, "unknown", [], status=None))
    for status in ("finished", "diverged", "failed"):
        assert not resumable(make_run(tmp_path, status, [], status=status))
    assert not resumable(make_run(tmp_path, "no_ckpt", [], ckpt=False))
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not resumable(make_run(tmp_path, "alive", [], status="running", pid=alive.pid)), "still running"
        time.sleep(0.2)
        assert alive.poll() is None, "asking whether a process lives sends it no signal"
    finally:
        alive.kill()
        alive.wait()
    assert resumable(make_run(tmp_path, "this_process", [], status="running", pid=os.getpid()))


def test_auto_resume_picks_the_newest_unfinished_run_with_the_same_overrides(tmp_path):
    older = make_run(tmp_path, "a", ["loss=square", "seed=1"])
    time.sleep(0.01)
    newer = make_run(tmp_path, "b", ["seed=1", "loss=square"])
    os.utime(older, (time.time() - 100, time.time() - 100))
    make_run(tmp_path, "c", ["loss=square"])
    make_run(tmp_path, "d", ["loss=square", "seed=1"], status="finished")
    (tmp_path / "not_a_run").mkdir()
    assert newest_resumable(tmp_path, ["loss=square", "seed=1"]) == newer
    os.utime(newer, (time.time() - 200, time.time() - 200))
    assert newest_resumable(tmp_path, ["seed=1", "loss=square"]) == older
    assert newest_resumable(tmp_path, ["seed=2"]) is None


def test_resume_args_become_the_runs_own_overrides_in_its_own_folder(tmp_path):
    run = make_run(tmp_path, "it's", ["loss=square"])
    (run / ".hydra" / "resumed-1").mkdir()
    assert resume_args(["seed=3"]) == ["seed=3"], "no resume: untouched"
    quoted = "'" + str(run.resolve()).replace("'", "\\'") + "'"
    assert resume_args([f"resume={run}"]) == ["loss=square", f"hydra.run.dir={quoted}",
                                             "hydra.output_subdir=.hydra/resumed-2", f"resume={quoted}"]


@pytest.mark.parametrize("name", ["it's", "back\\slash", "ends\\", "both\\'s"])
def test_a_resumed_folder_reaches_hydra_unchanged(tmp_path, name):
    """Whatever the folder's name, Hydra's own parser reads the override back as the folder's path."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    run = make_run(tmp_path, name, ["loss=square"])
    parsed = OverridesParser.create().parse_overrides(resume_args([f"resume={run}"]))
    assert [o.value() for o in parsed if o.key_or_group in ("hydra.run.dir", "resume")] == [str(run.resolve())] * 2


def test_resume_auto(tmp_path):
    run = make_run(tmp_path, "r", ["loss=square"])
    assert resume_args(["resume=auto", "loss=square", "hydra.job.chdir=false"], runs_root=tmp_path)[0] == "loss=square"
    assert resume_args(["resume=auto", "loss=square"], runs_root=tmp_path)[-1].startswith("resume=")
    assert str(run.resolve()) in resume_args(["resume=auto", "loss=square"], runs_root=tmp_path)[-1]
    assert resume_args(["loss=l1", "resume=auto"], runs_root=tmp_path) == ["loss=l1"], "nothing to resume: a new run"


@pytest.mark.parametrize("case, message", [
    ("sweep", "resume: resumes one run; resume the jobs of a sweep one by one"),
    ("missing", "is not a dlstudy run folder (no .hydra/overrides.yaml)"),
    ("no_ckpt", "has no checkpoints/last.ckpt to resume from"),
    ("finished", "is finished; only an interrupted run can resume"),
])
def test_resume_refusals(tmp_path, case, message):
    run = {"sweep": lambda: make_run(tmp_path, "s", []), "missing": lambda: tmp_path / "nothing",
           "no_ckpt": lambda: make_run(tmp_path, "n", [], ckpt=False),
           "finished": lambda: make_run(tmp_path, "f", [], status="finished")}[case]()
    args = [f"resume={run}"] + (["-m"] if case == "sweep" else [])
    with pytest.raises(ValueError) as e:
        resume_args(args)
    assert message in str(e.value)
