"""Configs and signatures agree: every parameter of a dlstudy target is in its YAML, so `data.batch_size=32`
works by plain name, and every value that differs from the Python default is listed below as a choice."""

import inspect
from pathlib import Path

import pytest
import yaml
from hydra.utils import get_object

from dlstudy import CONF_DIR

CONF = Path(CONF_DIR)
HYDRA_KEYS = {"_target_", "_partial_", "_convert_", "_recursive_", "_args_"}

# Parameters that code passes, not YAML: build.py gives the system its loss, optimizer, scheduler and init
# (each from its own config group), and the trainer its logger, callbacks and checkpoint plugin; a partial
# init scheme is called with each layer.
WIRED = {
    "dlstudy.models.Classifier": {"loss", "optimizer", "scheduler", "init"},
    "dlstudy.models.Regressor": {"loss", "optimizer", "scheduler", "init"},
    "lightning.Trainer": {"logger", "callbacks", "plugins"},
    "dlstudy.init.*": {"layer"},
}

# Every YAML value that is not its parameter's Python default (or that has no default): `file: key=value`.
# Interpolations (`${...}`) are wiring, not choices, and are not listed. A new entry needs a reason.
DELIBERATE = {
    "callbacks/default.yaml: checkpoint.filename='best'": "best.ckpt, the checkpoint a run tests",
    "callbacks/default.yaml: checkpoint.save_last=True": "last.ckpt, what resume= continues from",
    "experiment/rnn_clipping.yaml: callbacks.sequence_gradients.every_n_steps=10":
        "divergence without clipping comes within ~40 steps: sample the gradient norm often enough to see it",
    "data/function_1d.yaml: function='sin'": "the 1-D study fits a curve, not a line",
    "data/function_1d.yaml: noise=0.05": "less noise than a regression so the curve's shape shows",
    "data/function_1d.yaml: num_features=1": "one input: a function of x that a plot can show",
    "logger/tensorboard.yaml: default_hp_metric=False": "else HPARAMS shows hp_metric=-1",
    "logger/tensorboard.yaml: name=''": "event files in the run folder itself",
    "logger/tensorboard.yaml: version=''": "no version_0/ subfolder: one run, one folder",
    "loss/label_smoothing.yaml: label_smoothing=0.1": "the smoothing this config is named for",
    "model/mlp_classifier.yaml: net.num_hiddens=[256]": "MLP has no default width; one hidden layer of 256",
    "model/mlp_regressor.yaml: model.net.activation='tanh'": "smooth fits of 1-D functions",
    "model/mlp_regressor.yaml: model.net.num_hiddens=[64, 64]": "MLP has no default width; two small layers",
    "optimizer/adam.yaml: fused=True": "one fused kernel per step (scripts/bench.py)",
    "optimizer/adamw.yaml: fused=True": "one fused kernel per step (scripts/bench.py)",
    "optimizer/sgd.yaml: lr=0.1": "torch's 1e-3 barely moves plain SGD in a short run",
    "scheduler/step.yaml: step_size=10": "StepLR has no default step; half of the default 20 epochs",
    "trainer/default.yaml: deterministic=False": "stated, as tests turn it on by plain name",
    "trainer/default.yaml: devices=1": "'auto' would take every GPU and start DDP",
    "trainer/default.yaml: log_every_n_steps=10": "small studies have few steps per epoch",
    "trainer/default.yaml: num_sanity_val_steps=0": "start-up: build() already checks a batch through net and loss",
    "trainer/default.yaml: max_epochs=20": "Lightning's None means 1000 epochs",
}


def nodes(tree, path=""):
    """(dotted path, node) for every mapping with a `_target_` in a YAML tree."""
    if isinstance(tree, dict):
        if "_target_" in tree:
            yield path, tree
        for key, value in tree.items():
            yield from nodes(value, f"{path}.{key}" if path else str(key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from nodes(value, f"{path}[{i}]")


def targets():
    for file in sorted(CONF.rglob("*.yaml")):
        for path, node in nodes(yaml.safe_load(file.read_text()) or {}):
            yield str(file.relative_to(CONF)), path, node


def own(obj) -> bool:
    return getattr(obj, "__module__", "").startswith("dlstudy")


def parameters(target: str) -> tuple[dict[str, inspect.Parameter], set[str], bool]:
    """A target's named parameters, following **kwargs up the classes that pass them on; the names that
    dlstudy's own code defines (the rest are another project's); and whether unnamed keywords still pass."""
    obj = get_object(target)
    functions = [obj] if not inspect.isclass(obj) else \
        [c.__init__ for c in obj.__mro__ if "__init__" in vars(c) and c is not object]
    named, mine, open_ = {}, set(), True
    for f in functions:
        sig = inspect.signature(f)
        found = {k: p for k, p in sig.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                 and k != "self" and k not in named}
        named |= found
        if own(f):
            mine |= set(found)
        open_ = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        if not open_ or not own(f):
            break
    return named, mine, open_


def wired(target: str) -> set[str]:
    module = target.rpartition(".")[0]
    return WIRED.get(target, set()) | WIRED.get(f"{module}.*", set())


def plain(value):
    return list(value) if isinstance(value, tuple) else value


CASES = list(targets())


@pytest.mark.parametrize("file, path, node", CASES, ids=[f"{f}:{p or 'root'}" for f, p, _ in CASES])
def test_config_keys_are_the_targets_parameters(file, path, node):
    target = node["_target_"]
    params, mine, has_kwargs = parameters(target)
    keys = set(node) - HYDRA_KEYS
    unknown = keys - set(params)
    assert has_kwargs or not unknown, f"{file}: {sorted(unknown)} are not parameters of {target}"
    assert not keys & wired(target), f"{file}: {sorted(keys & wired(target))} are passed by code"
    # Every parameter dlstudy defines; another project's (torch, Lightning) are checked by name only.
    missing = mine - keys - wired(target)
    assert not missing, f"{file}: add {sorted(missing)} (with {target}'s defaults) so they override by name"


def differences() -> set[str]:
    found = set()
    for file, path, node in CASES:
        params, _, _ = parameters(node["_target_"])
        for key, value in node.items():
            if key in HYDRA_KEYS or key not in params or isinstance(value, dict):
                continue
            if isinstance(value, str) and "${" in value:
                continue
            default = params[key].default
            if default is inspect.Parameter.empty or plain(default) != value or type(plain(default)) is not type(value):
                found.add(f"{file}: {path + '.' if path else ''}{key}={value!r}")
    return found


def test_every_value_that_differs_from_its_default_is_a_listed_choice():
    found = differences()
    assert not found - set(DELIBERATE), "new differences from the Python defaults: list them or remove them"
    assert not set(DELIBERATE) - found, "listed choices no longer in conf/: remove them from DELIBERATE"


def test_a_parameter_overrides_by_its_plain_name(tmp_path):
    from dlstudy.build import build, compose_train

    cfg = compose_train("model=linear_regression", "data=synthetic_regression", "data.batch_size=32",
                        output_dir=tmp_path)
    dm, _ = build(cfg)
    assert dm.batch_size == 32


def _same_behaviour_cases():
    for group in ("init", "loss"):
        for path in sorted((CONF / group).glob("*.yaml")):
            cfg = yaml.safe_load(path.read_text())
            chosen = {k for k, v in cfg.items() if k not in HYDRA_KEYS and not str(v).startswith("${")}  # not wiring
            if str(cfg.get("_target_", "")).startswith("dlstudy.") and chosen:
                yield pytest.param(group, cfg, id=f"{group}/{path.name}")


@pytest.mark.parametrize("group, cfg", list(_same_behaviour_cases()))
def test_a_target_called_bare_does_what_its_config_does(group, cfg):
    """Not only the same names and values: the Python default in use gives the config's result."""
    import torch
    from torch import nn

    target = get_object(cfg["_target_"])
    given = {k: v for k, v in cfg.items() if k not in HYDRA_KEYS and not str(v).startswith("${")}
    if group == "init":
        def weights(**kwargs):
            torch.manual_seed(0)
            layer = nn.Linear(20, 30)
            target(layer, **kwargs)
            return layer.weight
        assert torch.equal(weights(), weights(**given))
    else:
        torch.manual_seed(0)
        logits, y = torch.randn(8, 5), torch.randint(0, 5, (8,))
        assert torch.equal(target()(logits, y), target(**given)(logits, y))
