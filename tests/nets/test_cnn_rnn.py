import pytest
import torch
from torch import nn

from dlstudy import init
from dlstudy.init import apply_init
from dlstudy.nets import CNN, RNN


@pytest.mark.parametrize("shape", [(1, 28, 28), (1, 8, 8), (3, 32, 32)])
def test_cnn_shapes(shape):
    net = CNN(shape, 10, channels=[4, 8], kernel_size=3, pool="avg", num_hiddens=[16])
    assert net(torch.randn(5, *shape)).shape == (5, 10)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_rnn_reads_rows_as_steps(cell):
    net = RNN((1, 28, 28), 10, num_hiddens=16, cell=cell)
    assert net.rnn.input_size == 28 and net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    X = torch.randn(2, 1, 28, 28)
    X_later_rows_changed = X.clone()
    X_later_rows_changed[:, :, -1] += 1
    assert not torch.allclose(net(X), net(X_later_rows_changed)), "the last row reaches the output"


def test_init_reaches_conv_and_recurrent_weights():
    for net in (CNN((1, 28, 28), 10), RNN((1, 28, 28), 10, cell="lstm")):
        apply_init(net, init.zeros)
        assert all(torch.count_nonzero(p) == 0 for p in net.parameters())


def test_bad_net_settings():
    with pytest.raises(ValueError, match="channels"):
        CNN((1, 28, 28), 10, channels=[0])
    with pytest.raises(ValueError, match="pooling"):
        CNN((1, 8, 8), 10, channels=[4, 4, 4, 4])
    with pytest.raises(ValueError, match="cell"):
        RNN((1, 28, 28), 10, cell="transformer")
    assert isinstance(CNN((1, 28, 28), 10).features[0], nn.Conv2d)


@pytest.mark.parametrize("kwargs", [{"num_hiddens": 0}, {"num_hiddens": -4}, {"num_layers": 0}])
def test_rnn_refuses_a_non_positive_width_or_depth(kwargs):
    from dlstudy.nets import RNN

    with pytest.raises(ValueError, match="num_hiddens and num_layers must be positive"):
        RNN((1, 28, 28), 10, **kwargs)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_rnn_reads_a_sequence_as_it_is(cell):
    """(B, T, F) goes straight into the cell; the head reads the last hidden state (checked against PyTorch)."""
    torch.manual_seed(0)
    net = RNN((7, 3), 1, num_hiddens=5, cell=cell)
    X = torch.randn(4, 7, 3)
    out, _ = net.rnn(X)  # (4, 7, 5)
    assert torch.allclose(net(X), net.head(out[:, -1]))
    assert net.rnn.input_size == 3 and net(X).shape == (4, 1)
    assert isinstance(net.rnn, {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}[cell])
    assert cell != "rnn" or net.rnn.nonlinearity == "tanh"


@pytest.mark.parametrize("kwargs, match", [({"num_hiddens": 0}, "positive"), ({"num_hiddens": -3}, "positive"),
                                           ({"num_layers": 0}, "positive"), ({"input_shape": (5,)}, "input_shape")])
def test_bad_rnn_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNN(**({"input_shape": (7, 3), "num_outputs": 1} | kwargs))
