"""dlstudy.nets.conv.Conv2d against nn.Conv2d: outputs and weight gradients to the bit, input gradients to rounding."""

import pytest
import torch
from torch import nn

from dlstudy.nets import CNN
from dlstudy.nets.conv import Conv2d


def pair(*args, dtype=torch.float32, **kwargs) -> tuple[nn.Conv2d, Conv2d]:
    torch.manual_seed(0)
    ref = nn.Conv2d(*args, **kwargs).to(dtype)
    ours = Conv2d(*args, **kwargs).to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def grads(conv: nn.Conv2d, X: torch.Tensor, G: torch.Tensor) -> tuple:
    X = X.clone().requires_grad_(True)
    out = conv(X)
    out.backward(G)
    return out.detach(), X.grad, conv.weight.grad, None if conv.bias is None else conv.bias.grad


@pytest.mark.parametrize("cin, cout, k, padding, bias", [(2, 2, 5, 2, True), (4, 8, 3, 1, True), (8, 4, 5, 2, False),
                                                         (3, 5, (3, 5), (1, 2), True), (2, 3, 3, 0, True),
                                                         (2, 2, 3, 2, True)])
def test_input_gradient_is_torchs_to_rounding_the_rest_to_the_bit(cin, cout, k, padding, bias):
    """In float64, where the two summation orders agree to 1e-12, and in float32 to its rounding; the forward and
    the weight's and bias's gradients are torch's own calls: equal to the bit in both."""
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        ref, ours = pair(cin, cout, k, padding=padding, bias=bias, dtype=dtype)
        g = torch.Generator().manual_seed(1)
        X = torch.randn(6, cin, 9, 11, generator=g, dtype=dtype)
        G = torch.randn(ref(X).shape, generator=g, dtype=dtype)
        (out0, gX0, gW0, gb0), (out1, gX1, gW1, gb1) = grads(ref, X, G), grads(ours, X, G)
        assert torch.equal(out0, out1) and torch.equal(gW0, gW1)
        assert (gb0 is None and gb1 is None) or torch.equal(gb0, gb1)
        torch.testing.assert_close(gX1, gX0, rtol=tol, atol=tol * gX0.abs().max().item())
        assert gX1.shape == X.shape


def test_the_flipped_backward_runs_where_it_applies_and_torchs_elsewhere(monkeypatch):
    calls = []
    real = torch.nn.functional.conv2d
    monkeypatch.setattr(torch.nn.functional, "conv2d", lambda *a, **kw: calls.append(a[1].shape) or real(*a, **kw))
    X = torch.randn(2, 3, 8, 8, requires_grad=True)
    Conv2d(3, 4, 3, padding=1)(X).sum().backward()
    assert calls == [(4, 3, 3, 3), (3, 4, 3, 3)]  # the forward, then the input gradient's flipped kernels
    for conv in (Conv2d(3, 4, 3, stride=2), Conv2d(3, 4, 3, dilation=2), Conv2d(4, 4, 3, groups=2),
                 Conv2d(3, 4, 3, padding="same"), Conv2d(3, 4, 3, padding=1, padding_mode="circular")):
        assert not conv.applies(X if conv.groups == 1 else torch.randn(2, 4, 8, 8))
    assert not Conv2d(3, 4, 3).applies(X.half())
    with torch.no_grad():
        assert not Conv2d(3, 4, 3).applies(X)


def test_fallbacks_are_nn_conv2d_to_the_bit():
    ref, ours = pair(3, 4, 3, stride=2, padding=1)
    X, G = torch.randn(2, 3, 9, 9), torch.randn(2, 4, 5, 5)
    assert all(torch.equal(a, b) for a, b in zip(grads(ref, X, G), grads(ours, X, G)))


def test_second_derivatives_are_refused():
    X = torch.randn(2, 2, 6, 6, requires_grad=True)
    (g,) = torch.autograd.grad(Conv2d(2, 2, 3, padding=1)(X).pow(2).sum(), X, create_graph=True)
    with pytest.raises(RuntimeError, match="once_differentiable|double backward|differentiable"):
        g.sum().backward()


def test_a_cnn_with_it_trains_as_torchs_to_rounding():
    """Two CNNs from one seed, one with flipped_input_grad: the same parameters (names, shapes, initial values), and
    the same weights after ten SGD steps to float32 rounding."""
    nets = []
    for flipped in (False, True):
        torch.manual_seed(0)
        nets.append(CNN((1, 12, 12), 10, channels=(4, 4), kernel_size=3, num_hiddens=(16,), flipped_input_grad=flipped))
    assert sum(isinstance(m, Conv2d) for m in nets[1].modules()) == 2
    assert not any(isinstance(m, Conv2d) for m in nets[0].modules())
    assert all(torch.equal(a, b) for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values()))
    g = torch.Generator().manual_seed(1)
    batches = [(torch.randn(16, 1, 12, 12, generator=g), torch.randint(0, 10, (16,), generator=g)) for _ in range(10)]
    for net in nets:
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for X, y in batches:
            opt.zero_grad()
            nn.functional.cross_entropy(net(X), y).backward()
            opt.step()
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
