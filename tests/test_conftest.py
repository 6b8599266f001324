"""The suite's own helpers: a run that names no accelerator stays on the CPU, through the config's own variable."""

from tests.conftest import compose_train, cpu_unless_named


def test_runs_without_a_named_accelerator_stay_on_the_cpu():
    assert cpu_unless_named(["loss=square", "trainer=ddp"]) == {"DLSTUDY_ACCELERATOR": "cpu"}
    for named in (["trainer=gpu"], ["trainer=mps"], ["trainer=ddp", "trainer.accelerator=gpu"]):
        assert cpu_unless_named(named) == {}, named


def test_the_trainer_config_reads_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv("DLSTUDY_ACCELERATOR", raising=False)
    assert compose_train(output_dir=tmp_path).trainer.accelerator == "auto"
    monkeypatch.setenv("DLSTUDY_ACCELERATOR", "cpu")
    assert compose_train(output_dir=tmp_path).trainer.accelerator == "cpu"
    assert compose_train("trainer=gpu", output_dir=tmp_path).trainer.accelerator == "gpu", "a named trainer wins"
