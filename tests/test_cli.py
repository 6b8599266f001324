"""The console scripts as a user runs them: exit codes and what they print."""

from tests.conftest import QUIET, cli


import pytest


@pytest.mark.parametrize("override, listed", [("loss=cross_entropyy", ["cross_entropy", "focal"]),
                                              ("experiment=nope", ["mnist_cnn", "loss_init_sweep"])])
def test_unknown_option_lists_the_valid_ones(tmp_path, override, listed):
    result = cli("dlstudy-train", override, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {override} is not an option") and all(name in line for name in listed)
    assert not (tmp_path / "outputs").exists(), "nothing written for a config that does not compose"


def test_bad_value_is_one_line_and_exit_status_2(tmp_path):
    result = cli("dlstudy-train", "optimizer.lr=-1", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "error: optimizer.lr must be > 0, got -1 (in model)"
    assert "Traceback" not in result.stderr + result.stdout


def test_module_entry_point_trains(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "dlstudy.train", "debug=fast", f"hydra.run.dir={tmp_path / 'r'}",
                             *QUIET], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "r" / "checkpoints" / "last.ckpt").exists()



COMMANDS = {"dlstudy-train": "dlstudy.train", "dlstudy-eval": "dlstudy.eval", "dlstudy-predict": "dlstudy.predict",
            "dlstudy-summarize": "dlstudy.summarize", "dlstudy-relu-prime": "dlstudy.relu_prime",
            "dlstudy-relu-prime-report": "dlstudy.studies.relu_prime"}


def test_every_console_script_imports_its_module_paused_and_returns_its_mains_status(monkeypatch):
    import importlib
    import tomllib
    from types import SimpleNamespace

    from dlstudy import cli as commands
    from dlstudy.resolvers import PROJECT_ROOT

    scripts = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.keys() == COMMANDS.keys()
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        imported = []
        monkeypatch.setattr(commands, "import_paused", lambda m: imported.append(m) or SimpleNamespace(main=lambda: 7))
        assert getattr(importlib.import_module(module), function)() == 7, name
        assert imported == [COMMANDS[name]]
        assert callable(importlib.import_module(COMMANDS[name]).main)


def test_the_paused_import_freezes_what_it_made_and_resumes_the_collector_even_when_it_fails(monkeypatch):
    import gc
    import importlib

    from dlstudy import cli as commands

    try:
        frozen = gc.get_freeze_count()
        assert commands.import_paused("json").dumps([1]) == "[1]"
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        def fail(name):
            assert not gc.isenabled(), "the collector is paused during the import"
            raise ImportError(name)
        monkeypatch.setattr(importlib, "import_module", fail)
        with pytest.raises(ImportError):
            commands.import_paused("anything")
        assert gc.isenabled()
    finally:
        gc.unfreeze()
