import pytest
import torch

from dlstudy.data import DigitsDataModule, SyntheticClassificationDataModule, SyntheticRegressionDataModule


def split_sizes(dm):
    dm.setup()
    return {k: len(y) for k, (_, y) in dm.splits.items()}


def test_splits_are_disjoint_and_sized():
    dm = SyntheticRegressionDataModule(num_samples=1000, val_fraction=0.1, test_fraction=0.2, seed=1)
    assert split_sizes(dm) == {"train": 700, "val": 100, "test": 200}
    rows = torch.cat([X for X, _ in dm.splits.values()])
    assert len(torch.unique(rows, dim=0)) == 1000


def test_synthetic_regression_is_linear_plus_noise_and_deterministic():
    dm = SyntheticRegressionDataModule(num_samples=2000, num_features=3, noise=0.1, seed=5)
    dm.setup()
    X, y = dm.splits["train"]
    residual = y[:, 0] - (X @ dm.true_weight + dm.true_bias)
    assert residual.std().item() == pytest.approx(0.1, rel=0.1)
    again = SyntheticRegressionDataModule(num_samples=2000, num_features=3, noise=0.1, seed=5)
    again.setup()
    assert torch.equal(again.splits["train"][0], X)
    assert (dm.num_inputs, dm.input_shape, dm.num_targets) == (3, (3,), 1)


@pytest.mark.parametrize("function", ["sin", "abs", "step"])
def test_one_d_functions(function):
    dm = SyntheticRegressionDataModule(num_samples=500, num_features=1, noise=0.0, function=function)
    dm.setup()
    X, y = dm.splits["train"]
    assert X.shape[1] == 1 and X.abs().max() <= 1
    expected = {"sin": torch.sin(2 * torch.pi * X), "abs": X.abs(), "step": (X > 0).float()}[function]
    torch.testing.assert_close(y, expected)


@pytest.mark.parametrize("dataset, k", [("moons", 2), ("circles", 2), ("spirals", 3), ("blobs", 4), ("xor", 2)])
def test_synthetic_classification(dataset, k):
    dm = SyntheticClassificationDataModule(dataset=dataset, num_samples=600, num_classes=k, seed=2)
    dm.setup()
    X, y = dm.splits["train"]
    assert X.shape[1] == 2 and X.dtype == torch.float32 and y.dtype == torch.long
    assert sorted(torch.unique(y).tolist()) == list(range(k))
    again = SyntheticClassificationDataModule(dataset=dataset, num_samples=600, num_classes=k, seed=2)
    again.setup()
    assert torch.equal(again.splits["train"][0], X)


def test_digits():
    dm = DigitsDataModule(batch_size=32)
    assert split_sizes(dm) == {"train": 1258, "val": 180, "test": 359}
    X, y = next(iter(dm.train_dataloader()))
    assert X.shape == (32, 1, 8, 8) and 0 <= X.min() and X.max() <= 1
    assert (dm.num_inputs, dm.num_classes) == (64, 10)


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size"),
    ({"val_fraction": 0.0}, "val_fraction"),
    ({"test_fraction": 1.5}, "test_fraction"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "< 1"),
])
def test_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DigitsDataModule(**kwargs)


def test_bad_synthetic_settings():
    with pytest.raises(ValueError, match="dataset"):
        SyntheticClassificationDataModule(dataset="swiss")
    with pytest.raises(ValueError, match="num_features must be 1"):
        SyntheticRegressionDataModule(num_features=2, function="sin")
