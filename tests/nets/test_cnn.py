"""CNN options: batch norm after each convolution and hidden layer; dropout in the head."""

import torch
from torch import nn

from dlstudy.nets import CNN


def test_batch_norm_normalises_every_conv_channel_over_the_batch_while_training():
    torch.manual_seed(0)
    net = CNN((1, 28, 28), 10, channels=[4, 8], kernel_size=3, num_hiddens=[16], batch_norm=True)
    outputs = []
    for bn in [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]:
        bn.register_forward_hook(lambda m, i, o: outputs.append(o))
    net.train()(torch.randn(64, 1, 28, 28) * 5 + 3)
    assert len(outputs) == 2
    for out in outputs:  # (B, C, H, W): per channel, mean 0 and variance 1 over batch and positions
        torch.testing.assert_close(out.mean((0, 2, 3)), torch.zeros(out.shape[1]), atol=1e-5, rtol=0)
        torch.testing.assert_close(out.var((0, 2, 3), unbiased=False), torch.ones(out.shape[1]), atol=1e-3, rtol=0)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is None for c in convs), "the norm's shift replaces the conv bias"
    assert sum(isinstance(m, nn.BatchNorm1d) for m in net.head.modules()) == 1


def test_plain_cnn_is_unchanged_and_eval_mode_is_deterministic():
    net = CNN((1, 28, 28), 10, channels=[4, 8], kernel_size=3, num_hiddens=[16], dropout=0.5, batch_norm=True)
    assert not any(isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) for m in CNN((1, 28, 28), 10).modules())
    X = torch.randn(8, 1, 28, 28)
    net.eval()
    torch.testing.assert_close(net(X), net(X))
    net.train()
    assert not torch.allclose(net(X), net(X)), "dropout is active while training"
