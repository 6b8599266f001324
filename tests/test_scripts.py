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
