"""BatchMeans against torchmetrics' own accuracy and mean, and the Classifier's training stage through it."""

import pytest
import torch
from torchmetrics import MeanMetric
from torchmetrics.classification import MulticlassAccuracy

from dlstudy.information import entropy
from dlstudy.models import Classifier
from dlstudy.models.metrics import BatchMeans
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
    with pytest.raises(ValueError, match=r"shape \(B, 2\)"):
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
