"""BatchMeans and RegressionMeans against torchmetrics, and the training stages of Classifier and Regressor through them."""

import pytest
import torch
from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError, R2Score
from torchmetrics.classification import MulticlassAccuracy

from dlstudy.information import entropy
from dlstudy.models import Classifier, Regressor
from dlstudy.models.metrics import BatchMeans, RegressionMeans
from dlstudy.nets import MLP


def batches(sizes=(7, 32, 1, 20), num_classes=5):
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(n, num_classes, generator=g), torch.randint(0, num_classes, (n,), generator=g)) for n in sizes]


def test_batch_means_equal_torchmetrics_accuracy_and_mean_over_uneven_batches():
    means, acc, ent = BatchMeans(("acc", "entropy")), MulticlassAccuracy(5, average="micro"), MeanMetric()
    for y_hat, y in batches():
        p = y_hat.softmax(-1)
        means.update(torch.stack([(y_hat.argmax(-1) == y).float(), entropy(p)], 1))
        acc.update(y_hat, y)
        ent.update(entropy(p))
    out = means.compute()
    torch.testing.assert_close(out["acc"], acc.compute())
    torch.testing.assert_close(out["entropy"], ent.compute())


def test_state_round_trips_and_resets():
    means = BatchMeans(("a", "b"))
    means.persistent(True)
    means.update(torch.tensor([[1.0, 2.0], [3.0, 6.0]]))
    again = BatchMeans(("a", "b"))
    again.persistent(True)
    again.load_state_dict(means.state_dict())
    again.update(torch.tensor([[5.0, 10.0]]))
    assert {k: v.item() for k, v in again.compute().items()} == {"a": 3.0, "b": 6.0}
    again.reset()
    again.update(torch.tensor([[1.0, 1.0]]))
    assert again.compute()["a"].item() == 1.0


def test_a_nan_shows_in_the_mean():
    means = BatchMeans(("x",))
    means.update(torch.tensor([[1.0], [float("nan")]]))
    assert means.compute()["x"].isnan()


def test_wrong_shape_is_one_clear_error():
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        BatchMeans(("a", "b")).update(torch.ones(4))


@pytest.mark.filterwarnings("ignore:.*self.trainer.*")
def test_classifier_train_metrics_match_its_validation_metrics_on_the_same_data():
    torch.manual_seed(0)
    system = Classifier(MLP(3, [8], 5), num_classes=5)
    with torch.no_grad():
        for X, y in ((torch.randn(n, 3), torch.randint(0, 5, (n,))) for n in (16, 9, 30)):
            y_hat = system(X)
            system.update_metrics("train", y_hat, y)
            system.update_metrics("val", y_hat, y)
    train, val = system.train_metrics.compute(), system.val_metrics.compute()
    for name in ("acc", "entropy"):
        torch.testing.assert_close(train[f"train/{name}"], val[f"val/{name}"])
    assert "train/ece" not in train and "val/ece" in val


def test_one_update_of_several_steps_adds_each_steps_sums_as_separate_updates_would_to_the_last_bit():
    g = torch.Generator().manual_seed(1)
    steps = [torch.randn(n, 2, generator=g).exp() for n in (128,) * 8 + (77, 3)]  # positive: rounding shows in the sums
    one, each, pooled = BatchMeans(("a", "b")), BatchMeans(("a", "b")), BatchMeans(("a", "b"))
    one.update(torch.cat(steps), sizes=[len(s) for s in steps])
    for s in steps:
        each.update(s)
    pooled.update(torch.cat(steps))
    assert torch.equal(one.sums, each.sums) and torch.equal(one.count, each.count)
    assert not torch.equal(pooled.sums, each.sums)  # the order matters: what `sizes` is there to keep


def test_regression_means_equal_torchmetrics_mse_mae_and_r2_over_uneven_batches():
    means, mse, mae, r2 = RegressionMeans(), MeanSquaredError(), MeanAbsoluteError(), R2Score()
    g = torch.Generator().manual_seed(0)
    for n in (7, 32, 1, 20):
        y = torch.randn(n, generator=g) * 3 + 1
        point = y + torch.randn(n, generator=g)
        means.update(RegressionMeans.values(point, y))
        for m in (mse, mae, r2):
            m.update(point, y)
    out = means.compute()
    for name, m in (("mse", mse), ("mae", mae), ("r2", r2)):
        torch.testing.assert_close(out[name], m.compute(), rtol=1e-5, atol=1e-6)


@pytest.mark.filterwarnings("ignore:.*self.trainer.*")
def test_regressor_train_metrics_match_its_validation_metrics_on_the_same_data():
    torch.manual_seed(0)
    system = Regressor(MLP(3, [8], 2))  # two targets per sample: scored flattened, as validation does
    with torch.no_grad():
        for X, y in ((torch.randn(n, 3), torch.randn(n, 2)) for n in (16, 9, 30)):
            y_hat = system(X)
            system.update_metrics("train", y_hat, y)
            system.update_metrics("val", y_hat, y)
    train, val = system.train_metrics.compute(), system.val_metrics.compute()
    assert set(train) == {"train/mse", "train/mae", "train/r2"}
    for name in ("mse", "mae", "r2"):
        torch.testing.assert_close(train[f"train/{name}"], val[f"val/{name}"], rtol=1e-5, atol=1e-6)
