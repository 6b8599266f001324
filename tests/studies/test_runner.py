"""make studies: the plug-in list, the marker blocks of docs/studies.md, and bad input before any run."""

from pathlib import Path

import pytest

from dlstudy.resolvers import PROJECT_ROOT
from dlstudy.studies import STUDIES
from dlstudy.docblocks import replace_block
from dlstudy.studies.runner import command, load, main


def test_a_block_is_replaced_in_place_and_the_rest_kept():
    text = "intro\n<!-- results:a -->\nold a\n<!-- /results -->\nmiddle\n<!-- results:b -->\nold b\n<!-- /results -->\n"
    new = replace_block(text, "a", "new a\n")
    assert new == "intro\n<!-- results:a -->\nnew a\n<!-- /results -->\nmiddle\n<!-- results:b -->\nold b\n<!-- /results -->\n"
    assert replace_block(new, "a", "new a") == new, "idempotent: a rerun changes nothing when the results do not"
    with pytest.raises(ValueError, match="no '<!-- results:c -->'"):
        replace_block(text, "c", "x")


def test_every_study_has_its_config_its_report_and_its_block():
    doc = (PROJECT_ROOT / "docs" / "studies.md").read_text()
    for study in STUDIES:
        assert (PROJECT_ROOT / "conf" / "experiment" / f"{study.name}.yaml").exists() or study.command
        assert callable(load(study.report))
        assert f"<!-- results:{study.name} -->" in doc
        if isinstance(study.overrides, str):
            assert callable(load(study.overrides))


def test_the_default_command_sweeps_the_experiment_into_the_study_folder(tmp_path):
    study = next(s for s in STUDIES if s.name == "lr_stability")
    cmd = command(study, tmp_path / "lr_stability")
    assert Path(cmd[0]).name == "dlstudy-train" and cmd[1:4] == ["-m", "experiment=lr_stability",
                                                                 f"hydra.sweep.dir={tmp_path / 'lr_stability'}"]


@pytest.mark.parametrize("platform, workers", [("linux", "fork"), ("darwin", "joblib")])
def test_a_sweep_runs_one_run_at_a_time_or_several_in_worker_processes(tmp_path, monkeypatch, platform, workers):
    monkeypatch.setattr("sys.platform", platform)
    study = next(s for s in STUDIES if s.name == "entropy_kl")
    assert "hydra/launcher=basic" in command(study, tmp_path, jobs=1)
    parallel = command(study, tmp_path, jobs=2)
    assert f"hydra/launcher={workers}" in parallel and "hydra.launcher.n_jobs=2" in parallel


@pytest.mark.parametrize("args, message", [(["nope"], "unknown study nope; the studies are: lr_stability"),
                                           (["--jobs", "0"], "--jobs must be >= 1, got 0"),
                                           (["lr_stability"], "no '<!-- results:lr_stability -->'")])
def test_bad_input_is_one_line_before_anything_runs(tmp_path, capsys, args, message):
    doc = tmp_path / "studies.md"
    doc.write_text("# nothing to rewrite\n")
    with pytest.raises(SystemExit) as e:
        main([*args, "--doc", str(doc), "--out", str(tmp_path / "out")])
    assert e.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and doc.read_text() == "# nothing to rewrite\n"


def test_the_wall_time_says_how_many_runs_shared_the_machine(tmp_path):
    import json

    from dlstudy.studies.report import RUN_FILE, wall_time

    run = {"wall_s": 12.4, "jobs": 6, "machine": "m", "load": [0.5, 1.0, 2], "date": "2026-11-28"}
    (tmp_path / RUN_FILE).write_text(json.dumps({**run, "at_once": 2}))
    assert wall_time(tmp_path).startswith("Wall time: 12 s for 6 runs, 2 at a time (m; load average 0.5 ")
    (tmp_path / RUN_FILE).write_text(json.dumps({**run, "at_once": 1}))
    assert wall_time(tmp_path).startswith("Wall time: 12 s for 6 runs, one at a time (m;")
    (tmp_path / RUN_FILE).write_text(json.dumps(run))  # written before the runner recorded it
    assert wall_time(tmp_path).startswith("Wall time: 12 s for 6 runs (m;")
