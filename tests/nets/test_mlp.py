import pytest
import torch
from torch import nn

from dlstudy.nets import MLP, ReLUAlpha, make_activation


def test_identity_mlp_is_one_affine_map():
    """Without a nonlinearity, stacked affine layers compose to a single affine map."""
    torch.manual_seed(0)
    net = MLP(6, [5, 4, 3], 2, activation="identity")
    X = torch.randn(32, 6)
    W, b = torch.eye(6), torch.zeros(6)
    for layer in (m for m in net.modules() if isinstance(m, nn.Linear)):
        W, b = layer.weight @ W, layer.weight @ b + layer.bias  # compose x -> A x + c
    torch.testing.assert_close(net(X), X @ W.T + b)


def test_relu_mlp_is_not_affine():
    torch.manual_seed(0)
    net = MLP(1, [16], 1)
    x = torch.linspace(-2, 2, 9)[:, None]
    y = net(x).detach()
    second_diff = y[2:] - 2 * y[1:-1] + y[:-2]  # zero everywhere for an affine map
    assert second_diff.abs().max() > 1e-4


def test_mlp_flattens_input_and_shapes():
    net = MLP(64, [32], 10, dropout=0.2, batch_norm=True)
    assert net(torch.randn(5, 1, 8, 8)).shape == (5, 10)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net.modules()) == 1
    assert not isinstance(net.layers[-1], (nn.ReLU, nn.Dropout)), "no activation on the logits"


@pytest.mark.parametrize("hiddens", [[64, 0], [-3], [2.5]])
def test_bad_layer_sizes_are_rejected(hiddens):
    with pytest.raises(ValueError, match="num_hiddens"):
        MLP(4, hiddens, 2)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="relu"):
        make_activation("swishy")


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_relu_alpha_gradient_at_zero(alpha):
    x = torch.tensor([-1.0, 0.0, 0.0, 2.0], requires_grad=True)
    y = ReLUAlpha(alpha)(x)
    torch.testing.assert_close(y, torch.relu(x))
    y.backward(torch.tensor([3.0, 5.0, 7.0, 11.0]))
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 5 * alpha, 7 * alpha, 11.0]))


def test_relu_alpha_matches_torch_relu_away_from_zero():
    x = torch.randn(1000, dtype=torch.float64)
    x = x[x != 0].requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    ReLUAlpha(0.5)(x).sum().backward()
    torch.relu(x_ref).sum().backward()
    torch.testing.assert_close(x.grad, x_ref.grad)
