import pytest
import torch

from dlstudy.data import AddingDataModule
from dlstudy.data.sequences import adding_problem


def test_adding_problem_by_its_definition():
    X, y = adding_problem(500, 20, torch.Generator().manual_seed(0))
    assert X.shape == (500, 20, 2) and y.shape == (500, 1)
    values, markers = X[..., 0], X[..., 1]
    assert ((markers == 0) | (markers == 1)).all()
    assert (markers[:, :10].sum(1) == 1).all() and (markers[:, 10:].sum(1) == 1).all(), "one marker per half"
    assert torch.allclose(y[:, 0], (values * markers).sum(1))
    assert ((values >= 0) & (values < 1)).all()


def test_the_trivial_answer_scores_one_sixth():
    """Predicting 1.0 (the mean of U + U) scores Var(U + U) = 2/12 (Hochreiter & Schmidhuber's baseline)."""
    _, y = adding_problem(40_000, 10, torch.Generator().manual_seed(1))
    assert ((y - 1.0) ** 2).mean().item() == pytest.approx(AddingDataModule.TRIVIAL_MSE, abs=0.004)


def test_datamodule_shapes_splits_and_seed():
    dm = AddingDataModule(seq_len=12, num_samples=200, seed=3)
    dm.setup()
    assert dm.input_shape == (12, 2) and dm.num_inputs == 24 and dm.task == "regression"
    assert sum(len(dm.splits[s][0]) for s in ("train", "val", "test")) == 200
    again = AddingDataModule(seq_len=12, num_samples=200, seed=3)
    again.setup()
    assert torch.equal(dm.splits["test"][0], again.splits["test"][0])
    with pytest.raises(ValueError, match="seq_len"):
        AddingDataModule(seq_len=1)
