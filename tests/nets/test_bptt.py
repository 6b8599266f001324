"""dlstudy.nets.bptt against PyTorch: the same outputs to the bit, the same gradients to rounding, torch's own
path wherever the hand-written backward does not apply."""

import pytest
import torch
from torch import nn

from dlstudy.nets import RNN, bptt

PAIRS = [(bptt.GRU, nn.GRU), (bptt.TanhRNN, nn.RNN)]


def by_hand(t: torch.Tensor) -> bool:
    """Whether the autograd graph behind `t` holds one of bptt's hand-written layers."""
    seen, todo = set(), [t.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if type(node).__name__ in ("_GRULayerBackward", "_TanhLayerBackward"):
            return True
        todo.extend(fn for fn, _ in node.next_functions)
    return False


def twins(cls, ref_cls, dtype=torch.float64, **kwargs):
    """The hand-written module and PyTorch's, with the same weights."""
    torch.manual_seed(0)
    ref = ref_cls(3, 5, **kwargs).to(dtype)
    mine = cls(3, 5, **kwargs).to(dtype)
    mine.load_state_dict(ref.state_dict())  # the same parameter names: checkpoints move between them
    return mine, ref


def grads(module, X, hx, cotangents):
    """Output, h_n and the gradient of <output, g> + <h_n, g_h> for the input, hx and every parameter."""
    out, h_n = module(X, hx)
    loss = (out * cotangents[0]).sum() + (h_n * cotangents[1]).sum()
    return out, h_n, torch.autograd.grad(loss, [X, hx, *module.parameters()])


@pytest.mark.parametrize("cls, ref_cls", PAIRS)
@pytest.mark.parametrize("num_layers, batch_first", [(1, True), (2, False), (3, True)])
def test_outputs_are_torchs_to_the_bit_and_gradients_to_rounding(cls, ref_cls, num_layers, batch_first):
    mine, ref = twins(cls, ref_cls, num_layers=num_layers, batch_first=batch_first)
    X = torch.randn((4, 9, 3) if batch_first else (9, 4, 3), dtype=torch.float64, requires_grad=True)
    hx = torch.randn(num_layers, 4, 5, dtype=torch.float64, requires_grad=True)
    g = (torch.randn(X.shape[:2] + (5,), dtype=torch.float64), torch.randn(num_layers, 4, 5, dtype=torch.float64))
    out, h_n, expected = grads(ref, X, hx, g)
    out_, h_n_, got = grads(mine, X, hx, g)
    assert by_hand(out_) and not by_hand(out)
    assert torch.equal(out_, out) and torch.equal(h_n_, h_n)
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls, ref_cls", PAIRS)
def test_float32_training_step_matches_autograd(cls, ref_cls):
    """A long sequence in float32, gradients reaching the weights only through the last step (as a regression
    head reads it), no hx: within float32 rounding of autograd's."""
    mine, ref = twins(cls, ref_cls, dtype=torch.float32, batch_first=True)
    X = torch.rand(16, 60, 3)
    losses = [m(X)[0][:, -1].pow(2).sum() for m in (mine, ref)]
    assert torch.equal(losses[0], losses[1])
    for loss in losses:
        loss.backward()
    for p, q in zip(mine.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-5, atol=1e-6)


def hand_written(module, X) -> bool:
    return by_hand(module(X)[0])


@pytest.mark.parametrize("cls, ref_cls", PAIRS)
def test_torchs_own_path_where_the_backward_does_not_apply(cls, ref_cls):
    X = torch.rand(2, 4, 3)
    mine, _ = twins(cls, ref_cls, dtype=torch.float32, batch_first=True)
    assert hand_written(mine, X)
    with torch.no_grad():
        assert mine(X)[0].grad_fn is None
    assert not hand_written(twins(cls, ref_cls, dtype=torch.float32, batch_first=True, bidirectional=True)[0], X)
    assert not hand_written(twins(cls, ref_cls, dtype=torch.float32, batch_first=True, bias=False)[0], X)
    dropout = twins(cls, ref_cls, dtype=torch.float32, batch_first=True, num_layers=2, dropout=0.5)[0]
    assert not hand_written(dropout, X) and hand_written(dropout.eval(), X)  # dropout acts only while training
    assert not hand_written(mine.bfloat16(), X.bfloat16())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not hand_written(mine.float(), X)
    mine.requires_grad_(False)
    assert mine(X)[0].grad_fn is None  # nothing to differentiate: torch's forward alone


def test_relu_rnn_is_torchs():
    relu = bptt.TanhRNN(3, 5, nonlinearity="relu")
    assert not hand_written(relu, torch.rand(4, 2, 3))


def test_the_net_takes_the_hand_written_cells_when_told_to():
    for cell, hand, plain in [("gru", bptt.GRU, nn.GRU), ("rnn", bptt.TanhRNN, nn.RNN), ("lstm", nn.LSTM, nn.LSTM)]:
        assert type(RNN((7, 3), 1, num_hiddens=5, cell=cell).rnn) is plain
        assert type(RNN((7, 3), 1, num_hiddens=5, cell=cell, hand_bptt=True).rnn) is hand


def test_second_derivatives_need_autograds_cells():
    """Asking the hand-written backward for a graph (create_graph, for a second derivative) is an error, not a
    graph that leaves the layer out; autograd's cells give it."""
    mine, ref = twins(bptt.GRU, nn.GRU)
    X = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(ref(X)[0].pow(2).sum(), X, create_graph=True)
    assert torch.autograd.grad(g.sum(), X)[0].abs().sum() > 0
    with pytest.raises(RuntimeError, match="first derivatives only.*hand_bptt=false"):
        torch.autograd.grad(mine(X)[0].pow(2).sum(), X, create_graph=True)
