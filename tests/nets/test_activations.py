"""ReLUAlpha's two rules for ReLU'(0), against gradients worked out by hand."""

import pytest
import torch

from dlstudy.nets import ReLUAlpha

X = [-1.0, 0.0, 0.0, 2.0]
GRAD_OUT = [3.0, 5.0, 0.0, 11.0]  # the second zero input receives no gradient from above


@pytest.mark.parametrize("rule, alpha, expected", [
    ("chain", 0.0, [0.0, 0.0, 0.0, 11.0]),
    ("chain", 1.0, [0.0, 5.0, 0.0, 11.0]),      # alpha * grad_out at 0
    ("chain", 0.5, [0.0, 2.5, 0.0, 11.0]),
    ("paper", 0.0, [0.0, 0.0, 0.0, 11.0]),      # the rules agree at alpha = 0
    ("paper", 1.0, [0.0, 1.0, 1.0, 11.0]),      # the constant alpha at 0, even where grad_out is 0
    ("paper", 0.5, [0.0, 0.5, 0.5, 11.0]),
])
def test_relu_alpha_rules_by_hand(rule, alpha, expected):
    x = torch.tensor(X, requires_grad=True)
    y = ReLUAlpha(alpha, rule=rule)(x)
    torch.testing.assert_close(y, torch.relu(x))
    y.backward(torch.tensor(GRAD_OUT))
    torch.testing.assert_close(x.grad, torch.tensor(expected))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_paper_rule_keeps_the_dtype(dtype):
    x = torch.tensor(X, dtype=dtype, requires_grad=True)
    ReLUAlpha(1.0, rule="paper")(x).backward(torch.tensor(GRAD_OUT, dtype=dtype))
    assert x.grad.dtype == dtype and x.grad.tolist() == [0.0, 1.0, 1.0, 11.0]


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="chain"):
        ReLUAlpha(1.0, rule="subgradient")
