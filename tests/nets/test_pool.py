"""dlstudy.nets.MaxPool2d against torch's nn.MaxPool2d: the same outputs and input gradients, bit for bit."""

import pytest
import torch
from torch import nn

from dlstudy.nets import CNN
from dlstudy.nets import pool
from dlstudy.nets.pool import MIN_CHANNELS, MaxPool2d, halving_max

SETTINGS = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=2, ceil_mode=True),
            dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))]


def ties(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    """Small integers after a ReLU: most windows hold several equal maxima (zeros above all), as after a real ReLU."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-3, 3, shape, generator=g).float().relu()


@pytest.mark.parametrize("settings", SETTINGS)
@pytest.mark.parametrize("shape", [(5, 8, 12, 12), (3, 4, 9, 7), (2, 16, 6, 6), (4, 2, 8, 8), (1, 1, 5, 5)])
def test_outputs_and_gradients_are_torchs(settings, shape):
    """Ties go where torch sends them (the first maximum of each window), on odd sizes, padding, ceil_mode and
    dilation; below MIN_CHANNELS the module is torch's own path, tested the same way."""
    X = ties(shape)
    grad = torch.randn(nn.MaxPool2d(**settings)(X).shape, generator=torch.Generator().manual_seed(1))
    outs, grads = [], []
    for pool in (nn.MaxPool2d(**settings), MaxPool2d(**settings)):
        X_ = X.clone().requires_grad_(True)
        out = pool(X_)
        out.backward(grad)
        outs.append(out)
        grads.append(X_.grad)
    assert torch.equal(outs[0], outs[1])
    assert torch.equal(grads[0], grads[1])
    assert outs[1].is_contiguous() and grads[1].is_contiguous()  # the default layout, for the layers after it
    with torch.no_grad():  # evaluation's paths, without indices
        out = MaxPool2d(**settings)(X)
        assert torch.equal(out, outs[0]) and out.is_contiguous()


def test_evaluation_of_2x2_windows_takes_the_maximum_of_four_views(monkeypatch):
    """The halving path is the one evaluation takes for 2x2 windows of any channel count, on odd sizes too (the last
    row dropped), and keeps a channels-last input's layout."""
    calls = []
    monkeypatch.setattr(pool, "halving_max", lambda X: calls.append(X.shape) or halving_max(X))
    for shape in [(3, 1, 9, 7), (2, 2, 8, 8), (2, 8, 6, 5)]:
        X = ties(shape)
        with torch.no_grad():
            assert torch.equal(MaxPool2d(2)(X), nn.MaxPool2d(2)(X))
    assert calls == [(3, 1, 9, 7), (2, 2, 8, 8), (2, 8, 6, 5)]
    X = ties((2, 8, 6, 6)).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        out = MaxPool2d(2)(X)
    assert torch.equal(out, nn.MaxPool2d(2)(X)) and out.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad():  # odd sizes in ceil mode keep their partial windows: torch's path
        MaxPool2d(2, ceil_mode=True)(ties((1, 8, 5, 5)))
    assert len(calls) == 4


def test_nan_propagates_as_in_torch():
    X = ties((2, MIN_CHANNELS, 4, 4))
    X[0, 1, 0, 0] = float("nan")
    torch.testing.assert_close(MaxPool2d(2)(X), nn.MaxPool2d(2)(X), equal_nan=True, rtol=0, atol=0)


def test_cnn_trains_as_with_torchs_pooling():
    """Two CNNs from one seed, one with torch's pooling swapped back in: the same weights after three SGD steps."""
    nets = []
    for swap in (False, True):
        torch.manual_seed(0)
        net = CNN((1, 12, 12), 10, channels=(8, 8), kernel_size=3, num_hiddens=(16,))
        if swap:
            net.features = nn.Sequential(*[nn.MaxPool2d(2) if isinstance(m, MaxPool2d) else m for m in net.features])
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(1)
        for _ in range(3):
            X, y = torch.randn(16, 1, 12, 12, generator=g), torch.randint(0, 10, (16,), generator=g)
            opt.zero_grad()
            nn.functional.cross_entropy(net(X), y).backward()
            opt.step()
        nets.append(net)
    assert sum(isinstance(m, MaxPool2d) for m in nets[0].modules()) == 2
    assert not any(isinstance(m, MaxPool2d) for m in nets[1].modules())
    for a, b in zip(nets[0].state_dict().values(), nets[1].state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_other_dtypes_match_torchs(dtype):
    X = ties((4, 8, 10, 10)).to(dtype)
    grad = torch.randn(4, 8, 5, 5, generator=torch.Generator().manual_seed(1)).to(dtype)
    results = []
    for pool in (nn.MaxPool2d(2), MaxPool2d(2)):
        X_ = X.clone().requires_grad_(True)
        out = pool(X_)
        out.backward(grad)
        results.append((out, X_.grad))
    assert all(torch.equal(a, b) for a, b in zip(*results))
