"""TestCurve: test accuracy after each epoch, against training seconds."""

from dlstudy.callbacks.figures import confusion_figure
from tests.conftest import scalars


def test_the_last_point_of_the_curve_is_the_final_test_accuracy(train):
    """One epoch: the best checkpoint is the last model, so both evaluations see the same weights and data."""
    run = train("trainer.max_epochs=2", "+callbacks.test_curve._target_=dlstudy.callbacks.TestCurve",
                "callbacks.checkpoint.monitor=null", "callbacks.histograms=null")
    s = scalars(run)
    assert len(s["curve/test_acc"]) == 2 and s["curve/train_s"][0] < s["curve/train_s"][1]
    assert s["curve/test_acc"][-1] == s["test/acc"][-1]


def test_confusion_matrix_axes_carry_the_class_names():
    import torch

    names = ["T-shirt/top", "Trouser", "Pullover"]
    ax = confusion_figure(torch.eye(3, dtype=torch.long) * 5, names).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names == [t.get_text() for t in ax.get_yticklabels()]
