"""Synthetic data, deterministic from a seed: linear regression, 1-D functions, 2-D classification."""

import math

import torch

from dlstudy.data.base import RandomSplitDataModule

FUNCTIONS = {
    "linear": None,  # y = X w* + b* + noise
    "sin": lambda x: torch.sin(2 * math.pi * x),
    "abs": torch.abs,
    "step": lambda x: (x > 0).to(x.dtype),
}


class SyntheticRegressionDataModule(RandomSplitDataModule):
    """y = X w* + b* + noise with X ~ N(0, I); or y = f(x) + noise on x ~ U(-1, 1) for f in sin, abs, step."""

    task = "regression"
    num_targets = 1

    def __init__(self, num_samples: int = 1000, num_features: int = 2, noise: float = 0.1,
                 function: str = "linear", **kwargs):
        super().__init__(**kwargs)
        if function not in FUNCTIONS:
            raise ValueError(f"function must be one of {sorted(FUNCTIONS)}, got {function!r}")
        if function != "linear" and num_features != 1:
            raise ValueError(f"function={function} is 1-D: num_features must be 1, got {num_features}")
        if num_samples <= 0 or num_features <= 0:
            raise ValueError(f"num_samples and num_features must be positive, got {num_samples}, {num_features}")
        self.num_samples, self.num_features, self.noise, self.function = num_samples, num_features, noise, function
        g = torch.Generator().manual_seed(self.seed)
        self.true_weight = torch.randn(num_features, generator=g)  # (F,)
        self.true_bias = torch.randn((), generator=g).item()

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.num_features,)

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed + 1)
        if self.function == "linear":
            X = torch.randn(self.num_samples, self.num_features, generator=g)  # (N, F)
            y = X @ self.true_weight + self.true_bias  # (N,)
        else:
            X = torch.rand(self.num_samples, 1, generator=g) * 2 - 1  # (N, 1) in [-1, 1)
            y = FUNCTIONS[self.function](X[:, 0])
        y = y + self.noise * torch.randn(self.num_samples, generator=g)
        return X, y[:, None]  # (N, F), (N, 1)


def _spirals(n: int, num_classes: int, noise: float, rng) -> tuple:
    """`num_classes` interleaved arms, each turning once around the origin."""
    per = n // num_classes
    r = torch.linspace(0.1, 1.0, per).repeat(num_classes)
    k = torch.arange(num_classes).repeat_interleave(per)
    theta = 2 * math.pi * (r + k / num_classes) + noise * torch.randn(len(r), generator=rng)
    return torch.stack([r * torch.cos(theta), r * torch.sin(theta)], 1), k


def _xor(n: int, noise: float, rng) -> tuple:
    X = torch.rand(n, 2, generator=rng) * 2 - 1
    y = ((X[:, 0] > 0) ^ (X[:, 1] > 0)).long()
    return X + noise * torch.randn(n, 2, generator=rng), y


class SyntheticClassificationDataModule(RandomSplitDataModule):
    """2-D point clouds: moons, circles, spirals, blobs or xor."""

    task = "classification"
    input_shape = (2,)
    DATASETS = ("moons", "circles", "spirals", "blobs", "xor")

    def __init__(self, dataset: str = "moons", num_samples: int = 1000, noise: float = 0.1,
                 num_classes: int = 2, **kwargs):
        super().__init__(**kwargs)
        if dataset not in self.DATASETS:
            raise ValueError(f"dataset must be one of {list(self.DATASETS)}, got {dataset!r}")
        if dataset in ("moons", "circles", "xor") and num_classes != 2:
            raise ValueError(f"dataset={dataset} has 2 classes, got num_classes={num_classes}")
        self.dataset, self.num_samples, self.noise, self.num_classes = dataset, num_samples, noise, num_classes

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        from sklearn import datasets  # here: only three of the five data sets need scikit-learn (~0.5 s to import)

        n, s = self.num_samples, self.seed
        if self.dataset == "moons":
            X, y = datasets.make_moons(n, noise=self.noise, random_state=s)
        elif self.dataset == "circles":
            X, y = datasets.make_circles(n, noise=self.noise, factor=0.5, random_state=s)
        elif self.dataset == "blobs":
            X, y = datasets.make_blobs(n, centers=self.num_classes, random_state=s)
        elif self.dataset == "spirals":
            X, y = _spirals(n, self.num_classes, self.noise, torch.Generator().manual_seed(s))
        else:
            X, y = _xor(n, self.noise, torch.Generator().manual_seed(s))
        return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long)
