"""The launch scripts' own guarantees."""

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_reports_no_suite_time_when_the_suite_fails(tmp_path, capsys):
    bench = load("bench")
    (tmp_path / "test_one.py").write_text("def test_fails():\n    assert 1 == 2\n")
    with pytest.raises(SystemExit) as e:
        bench.suite_seconds(tmp_path)
    assert "the test suite failed (pytest exit status 1)" in str(e.value.code)
    assert "1 failed" in capsys.readouterr().err, "pytest's own report is shown"
    (tmp_path / "test_one.py").write_text("def test_passes():\n    assert 1 == 1\n")
    assert bench.suite_seconds(tmp_path) > 0


def test_gpu_check_refuses_a_machine_without_cuda(tmp_path, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert load("gpu_check").main(["--out", str(tmp_path / "r.txt")]) == 2
    assert capsys.readouterr().err.startswith("error: gpu-check: CUDA is not available")
    assert not (tmp_path / "r.txt").exists()


@pytest.mark.parametrize("codes, status", [((0, 0), 0), ((1, 0), 1), ((0, 1), 1)])
def test_gpu_check_writes_tests_and_benchmark_to_one_file(tmp_path, monkeypatch, codes, status):
    import subprocess
    from types import SimpleNamespace

    import torch

    gpu_check = load("gpu_check")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda: "Test GPU")
    calls = []

    def run(command, stdout, **kwargs):
        calls.append(command)
        if len(calls) == 2:  # the benchmark starts: the tests' report is already on disk
            assert "output 1" in out.read_text()
        stdout.write(f"output {len(calls)}\n")
        return SimpleNamespace(returncode=codes[len(calls) - 1])

    out = tmp_path / "r.txt"
    monkeypatch.setattr(subprocess, "run", run)
    assert gpu_check.main(["--out", str(out), "--reps", "2"]) == status
    assert calls[0][1:] == ["-m", "pytest", "-v", "-rs", "-m", "gpu", "-p", "no:cacheprovider"]
    assert calls[1][1:] == ["scripts/bench.py", "--gpu", "--reps", "2"]
    text = out.read_text()
    assert "Test GPU" in text and "output 1" in text and "output 2" in text
    assert f"tests {'passed' if codes[0] == 0 else 'FAILED'}" in text


def test_study_speed_times_each_sweep_with_lightnings_loop_then_one_at_a_time_then_as_shipped(tmp_path, monkeypatch):
    study_speed = load("study_speed")
    timed = []

    def seconds(cmd, sweep):
        timed.append(cmd)
        parallel = "hydra.launcher.n_jobs=3" in cmd
        before = cmd[-2:] == study_speed.BEFORE
        return 6.0 if before else (2.0 if parallel else 4.0) if "experiment=rnn_clipping" in cmd \
            else (1.0 if parallel else 3.0)

    monkeypatch.setattr(study_speed, "sweep_seconds", seconds)
    doc = tmp_path / "b.md"
    doc.write_text("x\n<!-- results:study-speed -->\nold\n<!-- /results -->\n")
    monkeypatch.setattr(study_speed.os, "getloadavg", lambda: (1.25, 0, 0))
    study_speed.main(["entropy_kl", "rnn_clipping", "--jobs", "3", "--doc", str(doc)])
    assert [("experiment=entropy_kl" in c, c[-2:] == study_speed.BEFORE, "hydra.launcher.n_jobs=3" in c) for c in timed] == \
        [(True, True, False), (True, False, False), (True, False, True),
         (False, True, False), (False, False, False), (False, False, True)]  # back to back, Lightning's loop first
    assert timed[0][:-2] == timed[1], "the same sweep command apart from multistep and fast_log"
    assert study_speed.BEFORE == ["callbacks.multistep=null", "callbacks.fast_log=null"]
    assert "hydra/launcher=basic" in timed[1] and timed[2].count("hydra.launcher.n_jobs=3") == 1
    text = doc.read_text()
    today = __import__("datetime").date.today().isoformat()
    assert f"| entropy_kl | 6 | 3 | 1 | 6.00× (2.00×) | met | {today} (1.2, 1.2) |" in text
    assert f"| rnn_clipping | 6 | 4 | 2 | 3.00× (1.50×) | met | {today} (1.2, 1.2) |" in text
    assert "| 3 at a time, s |" in text
    assert "Not measured yet: lr_stability," in text and "old" not in text

    # A later run of one study replaces its row and keeps the other's, date and all; in the studies' order.
    doc.write_text(text.replace(today, "2000-01-01"))
    timed.clear()
    study_speed.main(["rnn_clipping", "--jobs", "3", "--doc", str(doc)])
    rows = [line for line in doc.read_text().splitlines() if line.startswith(("| entropy_kl", "| rnn_clipping"))]
    assert rows == ["| entropy_kl | 6 | 3 | 1 | 6.00× (2.00×) | met | 2000-01-01 (1.2, 1.2) |",
                    f"| rnn_clipping | 6 | 4 | 2 | 3.00× (1.50×) | met | {today} (1.2, 1.2) |"]
    assert len(timed) == 3
    # Rows of a table with other columns (here, another number of runs at a time) are not kept.
    study_speed.main(["rnn_clipping", "--jobs", "2", "--doc", str(doc)])
    assert "| entropy_kl" not in doc.read_text() and "Not measured yet: lr_stability" in doc.read_text()


def test_study_speed_refuses_an_unknown_study(capsys):
    with pytest.raises(SystemExit):
        load("study_speed").main(["no_such_study"])
    assert "unknown study no_such_study" in capsys.readouterr().err
