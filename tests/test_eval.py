"""dlstudy-eval: a checkpoint alone rebuilds its run and tests to the same numbers."""

import sys

import pytest
import torch

from tests.conftest import scalars


def evaluate(monkeypatch, tmp_path, ckpt):
    from dlstudy.eval import main

    out = tmp_path / "eval"
    monkeypatch.setattr(sys, "argv", ["dlstudy-eval", f"hydra.run.dir={out}", f"ckpt_path={ckpt}",
                                      "++trainer.enable_progress_bar=false"])
    main()
    return out


@pytest.mark.parametrize("overrides", [("data=synthetic_classification",), ("model=linear_regression",)])
def test_eval_reproduces_the_run_test_metrics(train, monkeypatch, tmp_path, overrides):
    run = train("trainer.max_epochs=2", *overrides)
    out = evaluate(monkeypatch, tmp_path, run / "checkpoints" / "best.ckpt")
    trained, evaluated = scalars(run), scalars(out)
    assert evaluated["test/loss"] == pytest.approx(trained["test/loss"], rel=1e-6)
    assert {k for k in trained if k.startswith("test/")} == {k for k in evaluated if k.startswith("test/")}


def test_bad_checkpoints_are_one_line_errors(monkeypatch, tmp_path, capsys):
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(b"PK\x03\x04 not really a zip")
    for ckpt, message in ((tmp_path / "missing.ckpt", "no such file"), (truncated, "cannot read")):
        with pytest.raises(SystemExit) as exit_info:
            evaluate(monkeypatch, tmp_path, ckpt)
        assert exit_info.value.code == 2
        errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and message in errors[0]


def test_checkpoint_of_another_model_config_is_one_line(train, monkeypatch, tmp_path, capsys):
    run = train("debug=fast")
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    ckpt["dlstudy_config"]["model"]["net"]["num_hiddens"] = [32]  # a config these weights do not fit
    torch.save(ckpt, tmp_path / "other.ckpt")
    with pytest.raises(SystemExit) as exit_info:
        evaluate(monkeypatch, tmp_path, tmp_path / "other.ckpt")
    assert exit_info.value.code == 2
    (line,) = [l for l in capsys.readouterr().err.splitlines() if l.startswith("error:")]
    assert "do not fit" in line and "size mismatch" in line


def test_an_explicit_run_folder_leaves_no_other_folder_behind(train, monkeypatch, tmp_path):
    """The default run folder is created when resolved; it must not be resolved when overridden."""
    monkeypatch.chdir(tmp_path)
    run = train("debug=fast")
    evaluate(monkeypatch, tmp_path, run / "checkpoints" / "last.ckpt")
    assert not (tmp_path / "outputs").exists()
