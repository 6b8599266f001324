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
