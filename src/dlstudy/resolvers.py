"""OmegaConf resolvers the configs use: ${project_root:}, ${unique_dir:...}, ${repeat:...}, ${gd_lr:...},
${cnn_matched_width:...}."""

import math
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import OmegaConf

if TYPE_CHECKING:
    import torch  # imported where used: `import dlstudy` stays light, so dlstudy.cli can time the heavy imports

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def unique_dir(path: str) -> str:
    from dlstudy.runs import unique_dir as make

    return make(path)


def repeat(width: int, depth: int) -> list[int]:
    """`num_hiddens: ${repeat:${width},${depth}}`: depth hidden layers of one width, so a sweep names a depth."""
    return [int(width)] * int(depth)


def gd_step_limit(X: "torch.Tensor") -> float:
    """2 / lambda_max of the Hessian of mean-squared error for y_hat = X w + b: gradient descent with a
    larger step diverges. The Hessian is (2/n) A^T A, A = [X, 1]."""
    import torch

    A = torch.cat([X, torch.ones(len(X), 1)], 1).double()
    return float(2 / torch.linalg.eigvalsh(2 * A.T @ A / len(A)).max())


def gd_lr(factor: float, *, _root_) -> float:
    """`optimizer.lr: ${gd_lr:${lr_factor}}`: that multiple of the step-size limit of this run's training data."""
    from hydra.utils import instantiate

    dm = instantiate(_root_.data)
    dm.setup("fit")
    return float(factor) * gd_step_limit(dm.splits["train"][0])


def cnn_matched_width(cnn_settings, input_shape, num_outputs) -> int:
    """`num_hiddens: [${cnn_matched_width:${cnn},${shapes.input_shape},${shapes.num_outputs}}]`: the width of
    the one-hidden-layer MLP with as many parameters as `dlstudy.nets.CNN(input_shape, num_outputs, **cnn)`."""
    from dlstudy.nets import CNN, count_parameters, matched_width

    cnn = CNN(list(input_shape), int(num_outputs), **OmegaConf.to_container(cnn_settings, resolve=True))
    return matched_width(count_parameters(cnn), math.prod(input_shape), int(num_outputs))


def register() -> None:
    OmegaConf.register_new_resolver("project_root", lambda: str(PROJECT_ROOT), replace=True)
    # cached: resolving the run folder twice in one process gives the same, already created, folder
    OmegaConf.register_new_resolver("unique_dir", unique_dir, replace=True, use_cache=True)
    OmegaConf.register_new_resolver("repeat", repeat, replace=True)
    OmegaConf.register_new_resolver("gd_lr", gd_lr, replace=True)
    OmegaConf.register_new_resolver("cnn_matched_width", cnn_matched_width, replace=True)
