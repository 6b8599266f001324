"""The launch scripts' own guarantees."""

import datetime
import importlib.util
import os
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load(name: str):
    """A script as a module, its folder on the path as when Python runs it (so that it imports its siblings)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
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


def test_bench_startup_clocks_the_real_run_from_its_own_import_of_lightning(tmp_path):
    """Both readings come from the `dlstudy-train` run itself: its Lightning import is done before its first step."""
    import torch

    from dlstudy.data.idx import write_mnist

    bench = load("bench")
    g = torch.Generator().manual_seed(0)
    images = lambda n: torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)  # noqa: E731
    write_mnist(tmp_path, (images(300), torch.arange(300) % 10), (images(40), torch.arange(40) % 10))
    first, imported, peak = bench.startup_run(tmp_path, "data.val_size=60", "model.net.num_hiddens=[8]")
    assert 0 < imported < first
    assert peak > 2**20
    assert not (tmp_path / "startup").exists(), "the run's folder is removed after it"


def test_bench_caches_the_bytecode_of_src_and_scripts(tmp_path, monkeypatch):
    import importlib.util

    bench = load("bench")
    sources = [tmp_path / "src" / "pkg" / "mod.py", tmp_path / "scripts" / "probe.py"]
    for source in sources:
        source.parent.mkdir(parents=True)
        source.write_text("X = 1\n")
    monkeypatch.setattr(bench, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(bench, "SCRIPTS", tmp_path / "scripts")
    bench.cache_bytecode()
    assert all(Path(importlib.util.cache_from_source(str(source))).is_file() for source in sources)


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


def test_study_speed_times_each_study_before_then_after_and_keeps_other_rows(tmp_path, monkeypatch):
    study_speed = load("study_speed")
    timed = []

    def measure(study, tree, tmp, jobs):
        timed.append((study.name, tree, jobs))
        return (6.0, 2, 4.0) if study.name == "rnn_clipping" else (6.0, 1, 2.0)

    monkeypatch.setattr(study_speed, "before_tree", lambda tmp: tmp / "before")
    monkeypatch.setattr(study_speed, "measure", measure)
    doc = tmp_path / "b.md"
    doc.write_text("x\n<!-- results:study-speed -->\nold\n<!-- /results -->\n")
    monkeypatch.setattr(study_speed.os, "getloadavg", lambda: (1.25, 0, 0))
    study_speed.main(["rnn_clipping", "entropy_kl", "--jobs", "3", "--doc", str(doc)])
    assert [(name, tree.name, jobs) for name, tree, jobs in timed] == \
        [("entropy_kl", "before", 3), ("rnn_clipping", "before", 3)]  # in the studies' order
    text = doc.read_text()
    today = datetime.date.today().isoformat()
    assert f"| entropy_kl | 6 | 1 | 2 | 3.00× | met | {today} (1.2, 1.2) |" in text
    assert f"| rnn_clipping | 6 | 2 | 4 | 1.50× | **not met** | {today} (1.2, 1.2) |" in text
    assert "| after, 3 at a time, s |" in text and study_speed.BEFORE_REV[:7] in text
    assert "Not measured yet: lr_stability," in text and "old" not in text

    # A later run of one study replaces its row and keeps the other's, date and all; in the studies' order.
    doc.write_text(text.replace(today, "2000-01-01"))
    timed.clear()
    study_speed.main(["rnn_clipping", "--jobs", "3", "--doc", str(doc)])
    rows = [line for line in doc.read_text().splitlines() if line.startswith(("| entropy_kl", "| rnn_clipping"))]
    assert rows == ["| entropy_kl | 6 | 1 | 2 | 3.00× | met | 2000-01-01 (1.2, 1.2) |",
                    f"| rnn_clipping | 6 | 2 | 4 | 1.50× | **not met** | {today} (1.2, 1.2) |"]
    assert len(timed) == 1
    # Rows of a table with other columns (here, another number of runs at a time) are not kept.
    study_speed.main(["rnn_clipping", "--jobs", "2", "--doc", str(doc)])
    assert "| entropy_kl" not in doc.read_text() and "Not measured yet: lr_stability" in doc.read_text()


def test_study_speed_runs_the_old_code_on_todays_sweep_with_its_own_launcher(tmp_path):
    study_speed = load("study_speed")
    from dlstudy.studies import STUDIES
    from dlstudy.studies.runner import command

    study = next(s for s in STUDIES if s.name == "rnn_memory")
    cmd, env = study_speed.before_command(study, tmp_path / "sweep", tmp_path / "old")
    now = command(study, tmp_path / "sweep", jobs=2)
    assert cmd[:3] == [sys.executable, "-m", "dlstudy.train"]  # the old tree's, by PYTHONPATH
    assert env["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "old" / "src")
    assert not [a for a in cmd if "launcher" in a] and [a for a in now if "launcher" in a]
    assert cmd[3:] == [a for a in now[1:] if "launcher" not in a] + ["data.seq_len=10,25,50,100"]


def write_job(sweep, i, overrides, config, launcher=None):
    import yaml

    hydra = sweep / f"{i}_job" / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (hydra / "config.yaml").write_text(yaml.safe_dump(config))
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {"launcher": launcher or {"_target_": "basic"}}}))


def test_study_speed_finds_where_two_sweeps_are_not_the_same(tmp_path):
    study_speed = load("study_speed")
    job = {"data": {"n": 1}, "seed": 0, "callbacks": {"a": 1}, "trainer": {"max_epochs": 3, "accelerator": "auto"}}
    # today's jobs: other callbacks, the accelerator from the environment, trainer settings the old code lacked,
    # and a setting that chooses how, not what (HOW_NOT_WHAT: model.net.hand_bptt)
    job["model"] = {"net": {"cell": "gru"}}
    new = {**job, "callbacks": {"b": 2}, "model": {"net": {"cell": "gru", "hand_bptt": True}},
           "trainer": {"max_epochs": 3, "accelerator": "${oc.env:X,auto}", "max_steps": -1}}
    for i in (0, 1):
        write_job(tmp_path / "old", i, [f"seed={i}"], job | {"seed": i}, {"_target_": "joblib", "n_jobs": 2})
        write_job(tmp_path / "new", i, [f"seed={i}"], new | {"seed": i})
        write_job(tmp_path / "longer", i, [f"seed={i}"], new | {"seed": i, "trainer": {"max_epochs": 30}})
        write_job(tmp_path / "other_data", i, [f"seed={i}"], new | {"seed": i, "data": {"n": 2}})
        write_job(tmp_path / "other_seeds", i, [f"seed={i + 1}"], new | {"seed": i + 1})
    assert study_speed.differences(tmp_path / "old", tmp_path / "new") == []
    assert study_speed.runs_at_once(tmp_path / "old") == 2 and study_speed.runs_at_once(tmp_path / "new") == 1
    assert sorted(study_speed.differences(tmp_path / "old", tmp_path / "longer")) == \
        ["['seed=0']: trainer.max_epochs", "['seed=1']: trainer.max_epochs"]
    assert sorted(study_speed.differences(tmp_path / "old", tmp_path / "other_data")) == \
        ["['seed=0']: data", "['seed=1']: data"]
    assert study_speed.differences(tmp_path / "old", tmp_path / "other_seeds") == \
        ["2 jobs are in one sweep only, e.g. ['seed=0']"]
    # ... but a HOW_NOT_WHAT setting that both sides name must agree, and the rest of its node still counts
    for i in (0, 1):
        write_job(tmp_path / "old_hand", i, [f"seed={i}"], job | {"seed": i, "model": {"net": {"cell": "gru",
                                                                                               "hand_bptt": False}}})
        write_job(tmp_path / "other_cell", i, [f"seed={i}"], new | {"seed": i, "model": {"net": {"cell": "lstm",
                                                                                                "hand_bptt": True}}})
    assert sorted(study_speed.differences(tmp_path / "old_hand", tmp_path / "new")) == \
        ["['seed=0']: model", "['seed=1']: model"]
    assert sorted(study_speed.differences(tmp_path / "old", tmp_path / "other_cell")) == \
        ["['seed=0']: model", "['seed=1']: model"]
    # An override only the old code was given (SAME_SWEEP) is in its jobs' names, not in today's.
    for i in (0, 1):
        write_job(tmp_path / "given", i, [f"seed={i}", "trainer.max_epochs=30"],
                  job | {"seed": i, "trainer": {"max_epochs": 30}})
    assert study_speed.differences(tmp_path / "given", tmp_path / "longer", ["trainer.max_epochs=30"]) == []
    assert sorted(study_speed.differences(tmp_path / "given", tmp_path / "new", ["trainer.max_epochs=30"])) == \
        ["['seed=0']: trainer.max_epochs", "['seed=1']: trainer.max_epochs"]


def test_study_speed_unpacks_the_code_before_issue_11(tmp_path):
    study_speed = load("study_speed")
    import subprocess

    if subprocess.run(["git", "cat-file", "-e", study_speed.BEFORE_REV], cwd=SCRIPTS.parent).returncode:
        pytest.skip("this clone's git history does not reach the code before issue #11")
    tree = study_speed.before_tree(tmp_path)
    assert (tree / "src" / "dlstudy" / "train.py").exists() and (tree / "conf" / "experiment" / "rnn_clipping.yaml").exists()
    assert not (tree / "src" / "dlstudy" / "multistep.py").exists()  # the code before multistep


def test_study_speed_refuses_an_unknown_study(capsys):
    with pytest.raises(SystemExit):
        load("study_speed").main(["no_such_study"])
    assert "unknown study no_such_study" in capsys.readouterr().err


def test_bench_backward_times_both_backwards_in_each_sweep(tmp_path):
    """Each sweep runs its switch both ways, one run at a time; a run's training seconds are its summed cost/epoch_s,
    keyed by (net, switched on), the net the row's `only` where the sweep does not set its `by`; the table's speed-up
    is torch's backward's time over dlstudy's, per repetition."""
    from torch.utils.tensorboard import SummaryWriter

    from dlstudy.runs import write_status

    bench = load("bench_backward")
    rnn = bench.SWEEPS["mnist_rnn, 1 epoch, 128 units"]
    cmd = bench.command(rnn, tmp_path / "sweep", tmp_path / "data")
    assert {"experiment=mnist_rnn", f"paths.data_dir={tmp_path / 'data'}", "model.net.hand_bptt=false,true",
            "hydra/launcher=basic", bench.COST} <= set(cmd)
    assert "model.net.cell=gru,rnn" in bench.command(bench.SWEEPS["rnn_memory, T = 100, 32 units"], tmp_path, tmp_path)
    conv = bench.SWEEPS["conv_vs_mlp, MNIST-sized images"]
    assert {"model.net.flipped_input_grad=false,true", "arch=cnn", "size=2,8"} <= set(bench.command(conv, tmp_path,
                                                                                                     tmp_path))

    def sweep(folder, runs, row):
        for i, (overrides, epochs) in enumerate(runs):
            job = folder / f"{i}_job"
            (job / ".hydra").mkdir(parents=True)
            (job / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
            with SummaryWriter(job) as w:
                for epoch, seconds in enumerate(epochs):
                    w.add_scalar("cost/epoch_s", seconds, epoch)
            write_status(job, "finished")
        return bench.training_seconds(folder, row)

    memory = sweep(tmp_path / "memory", [(["model.net.cell=gru", "model.net.hand_bptt=false"], [3.0, 4.0]),
                                         (["model.net.cell=gru", "model.net.hand_bptt=True"], [1.0, 1.5]),
                                         (["model.net.cell=rnn", "model.net.hand_bptt=false"], [2.0]),
                                         (["model.net.cell=rnn", "model.net.hand_bptt=true"], [1.0])], rnn)
    mnist = sweep(tmp_path / "mnist", [(["model.net.hand_bptt=false"], [6.0]), (["model.net.hand_bptt=true"], [8.0])],
                  rnn)
    cnn = sweep(tmp_path / "cnn", [(["size=8", "model.net.flipped_input_grad=false"], [2.0]),
                                   (["size=8", "model.net.flipped_input_grad=true"], [1.0])], conv)
    assert memory == {("gru", False): 7.0, ("gru", True): 2.5, ("rnn", False): 2.0, ("rnn", True): 1.0}
    assert mnist == {("gru", False): 6.0, ("gru", True): 8.0}
    assert cnn == {("8", False): 2.0, ("8", True): 1.0}
    rep = {"memory": memory, "mnist": mnist, "cnn": cnn}
    rows = {"memory": rnn, "mnist": rnn, "cnn": conv}
    text = bench.table([rep, {k: {c: 2 * v for c, v in r.items()} for k, r in rep.items()}], [0.5, 0.7], "digits",
                       rows)
    assert "| memory | GRU | model.net.hand_bptt | 10.5 [7.0, 14.0] | 3.8 [2.5, 5.0] | 2.80× [2.80×, 2.80×] |" in text
    assert "| memory | tanh RNN | model.net.hand_bptt | 3.0 [2.0, 4.0] | 1.5 [1.0, 2.0] | 2.00× [2.00×, 2.00×] |" in text
    assert "| mnist | GRU | model.net.hand_bptt | 9.0 [6.0, 12.0] | 12.0 [8.0, 16.0] | 0.75× [0.75×, 0.75×] |" in text
    assert ("| cnn | CNN, 8 channels | model.net.flipped_input_grad | 3.0 [2.0, 4.0] | 1.5 [1.0, 2.0] "
            "| 2.00× [2.00×, 2.00×] |") in text
    write_status(tmp_path / "mnist" / "1_job", "failed")
    with pytest.raises(RuntimeError, match="1_job: failed"):
        bench.training_seconds(tmp_path / "mnist", rnn)
