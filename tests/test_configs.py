"""Every YAML in conf/ composes, and every part it names instantiates and fits its run."""

from pathlib import Path

import pytest
import yaml
from hydra.utils import instantiate

from dlstudy import CONF_DIR
from dlstudy.build import build, build_trainer
from tests.conftest import compose_train

CONF = Path(CONF_DIR)
CLASSIFY = ["model=mlp_classifier", "data=digits"]
REGRESS = ["model=linear_regression"]
REGRESSION_LOSSES = {"mse", "l1", "huber", "gaussian_nll"}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def context_for(group: str, option: str) -> list[str]:
    """Settings an option needs around it: a regression loss needs a regression model, etc."""
    if group == "loss":
        return REGRESS if option in REGRESSION_LOSSES else CLASSIFY
    if group == "data":
        return {"synthetic_regression": REGRESS, "function_1d": ["model=mlp_regressor"],
                "adding": ["model=rnn_regressor"]}.get(option, CLASSIFY)
    if group == "model" and option in ("cnn_classifier", "rnn_classifier"):
        return ["data=mnist"]
    if group == "arch":  # conv_vs_mlp's two nets read that study's settings
        return ["experiment=conv_vs_mlp"]
    return []


CASES = [(g, o) for g in ("arch", "data", "model", "loss", "init", "optimizer", "scheduler", "callbacks", "logger",
                          "experiment", "hparams_search", "debug") for o in options(g)]


def built(tmp_path, *overrides):
    cfg = compose_train(*overrides, output_dir=tmp_path)
    return cfg, *build(cfg)


@pytest.mark.parametrize("group, option", CASES)
def test_option_composes_and_builds(tmp_path, fake_mnist, group, option):
    cfg, dm, system = built(tmp_path, *context_for(group, option), f"{group}={option}", f"paths.data_dir={fake_mnist}")
    assert system.task == dm.task
    build_trainer(cfg)


def test_every_yaml_is_covered():
    groups = {p.parent.name for p in CONF.rglob("*.yaml")} - {"conf", "hydra", "launcher", "paths", "trainer"}
    assert groups <= {g for g, _ in CASES}


@pytest.mark.parametrize("option", options("trainer"))
def test_trainer_options(tmp_path, option):
    cfg = compose_train(f"trainer={option}", output_dir=tmp_path)
    assert cfg.trainer.devices == (2 if option == "ddp" else 1), "one device unless asked: 'auto' would start DDP"
    expected = {"default": "auto", "cpu": "cpu", "gpu": "gpu", "mps": "mps", "ddp": "auto"}[option]
    assert cfg.trainer.accelerator == expected
    if option in ("default", "cpu"):
        assert instantiate(cfg.trainer).max_epochs == 20


def test_shapes_come_from_the_datamodule(tmp_path):
    cfg, dm, system = built(tmp_path, "data=synthetic_classification", "data.dataset=spirals", "data.num_classes=4")
    assert cfg.shapes.num_inputs == 2 and system.num_classes == 4
    assert system.net.layers[-1].out_features == 4
    cfg, dm, system = built(tmp_path, "model=linear_regression", "data.num_features=5", "loss=gaussian_nll")
    assert (system.net.in_features, system.net.out_features) == (5, 2)


def test_kaiming_gain_follows_the_activation(tmp_path):
    cfg, _, _ = built(tmp_path, "init=kaiming_normal", "model.net.activation=tanh")
    assert instantiate(cfg.init).keywords["nonlinearity"] == "tanh"
    cfg, _, _ = built(tmp_path, "init=kaiming_normal", "model=linear_regression")
    assert instantiate(cfg.init).keywords["nonlinearity"] == "relu"


def sweep_values(experiment: str) -> list[str]:
    """Every `key=value` of an experiment's own sweep (hydra.sweeper.params), one at a time."""
    params = yaml.safe_load((CONF / "experiment" / f"{experiment}.yaml").read_text())
    params = ((params.get("hydra") or {}).get("sweeper") or {}).get("params") or {}
    return [f"{k}={v.strip()}" for k, values in params.items() for v in str(values).split(",")]


@pytest.mark.parametrize("experiment", [e for e in options("experiment") if sweep_values(e)])
def test_every_swept_value_of_every_study_builds(tmp_path, fake_mnist, experiment):
    for override in sweep_values(experiment):
        cfg, dm, system = built(tmp_path, f"experiment={experiment}", override, f"paths.data_dir={fake_mnist}")
        build_trainer(cfg)


def test_cluster_launchers_compose(tmp_path):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["hydra/launcher=slurm_ddp", "trainer=ddp", "trainer.devices=4",
                                          "trainer.num_nodes=2"], return_hydra_config=True)
        local = compose("train", overrides=["hydra/launcher=submitit_local"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert "SlurmLauncher" in launcher._target_ and "LocalLauncher" in local.hydra.launcher._target_
    assert (launcher.tasks_per_node, launcher.nodes, cfg.trainer.strategy) == (4, 2, "ddp")


def test_no_config_sets_hydra_mode():
    """dlstudy-train skips Hydra's first composition, which only reads hydra.mode (train.compose_once)."""
    for path in CONF.rglob("*.yaml"):
        cfg = yaml.safe_load(path.read_text()) or {}
        hydra = cfg.get("hydra") if isinstance(cfg, dict) else None
        assert not (isinstance(hydra, dict) and "mode" in hydra), f"{path} sets hydra.mode"
