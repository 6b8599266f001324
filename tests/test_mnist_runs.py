"""MNIST through the real CLI: MLP, CNN and RNN with the unchanged Classifier; real digits where present."""

import pytest

from tests.conftest import scalars


@pytest.mark.parametrize("model", ["mlp_classifier", "cnn_classifier", "rnn_classifier"])
def test_mnist_trains_every_net_through_the_cli(train, fake_mnist, model):
    run = train("data=mnist", f"model={model}", f"paths.data_dir={fake_mnist}", "data.val_size=100",
                "data.max_shift=2", "debug=fast")
    s = scalars(run)
    assert len(s["train/loss"]) == 3 and "test/acc" in s


@pytest.mark.slow
@pytest.mark.parametrize("experiment, threshold", [("mnist_mlp", 0.95), ("mnist_cnn", 0.97)])
def test_real_digits_reach_the_course_accuracies(train, real_mnist, experiment, threshold):
    """8,000 real digits to train on, 2,000 others to test on, 3 epochs on the CPU."""
    run = train(f"experiment={experiment}", f"paths.data_dir={real_mnist}", "data.val_size=1000",
                "trainer.max_epochs=3", "data.max_shift=0", "callbacks.histograms=null")
    acc = scalars(run)["test/acc"][-1]
    assert acc >= threshold, f"{experiment}: test accuracy {acc:.4f}"
