"""nn.Conv2d whose input gradient is a convolution of the output's gradient with the flipped kernels (CPU).

For a convolution with stride 1, the gradient reaching its input is the output's gradient convolved with the
kernels flipped in space and with input and output channels swapped, padded by k - 1 - p. torch computes it on
the CPU with oneDNN's backward-data kernel, which for a small CNN's layers in the default (B, C, H, W) layout is
several times slower than oneDNN's forward convolution of the same size: with 2 to 8 channels the input gradient
of the second layer took about a third of a training step (probes). `make bench-backward` times both ways in real
runs. Here the forward is
torch's own call (`F.conv2d`, as nn.Conv2d makes it: the outputs are the same to the bit), and so are the
weight's and the bias's gradients (torch's `convolution_backward` without the input's); only the input's
gradient is computed the other way, which sums the same products in another order: it agrees with torch's to
rounding (tests/nets/test_conv.py: to 1e-12 in float64), so training follows the same path until rounding tells.
It applies where that holds: CPU, float32 or float64, gradients on, stride 1, dilation 1, one group, zero padding
given as numbers, not inside torch.compile; elsewhere the module is nn.Conv2d as it is. Off by default (the
CNN's `flipped_input_grad`): with wider layers the two ways take about as long. Second derivatives through it
(create_graph) are an error.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.autograd.function import once_differentiable


class _Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, weight, bias, padding):
        ctx.save_for_backward(X, weight)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return F.conv2d(X, weight, bias, padding=padding)  # (B, C_out, H', W')

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        X, weight = ctx.saved_tensors
        wants_X, wants_W, wants_b = ctx.needs_input_grad[:3]
        grad_X = grad_W = grad_b = None
        if wants_X:  # the output's gradient through the flipped kernels, (C_out, C_in) swapped
            (kh, kw), (ph, pw) = weight.shape[2:], ctx.padding
            grad_X = F.conv2d(grad, weight.transpose(0, 1).flip(2, 3), padding=(kh - 1 - ph, kw - 1 - pw))
        if wants_W or (ctx.has_bias and wants_b):  # torch's own kernels, as nn.Conv2d's backward calls them
            _, grad_W, grad_b = torch.ops.aten.convolution_backward(
                grad, X, weight, [weight.shape[0]] if ctx.has_bias else None, [1, 1], list(ctx.padding), [1, 1],
                False, [0, 0], 1, [False, wants_W, ctx.has_bias and wants_b])
        return grad_X, grad_W, grad_b, None


class Conv2d(nn.Conv2d):
    """nn.Conv2d (the same parameters and outputs) whose input gradient on the CPU is a flipped-kernel convolution."""

    def applies(self, X: torch.Tensor) -> bool:
        """Whether this forward can take the flipped-kernel backward (the module docstring's conditions)."""
        return (X.device.type == "cpu" and X.dtype in (torch.float32, torch.float64) and torch.is_grad_enabled()
                and self.stride == (1, 1) and self.dilation == (1, 1) and self.groups == 1
                and self.padding_mode == "zeros" and not isinstance(self.padding, str)
                and all(p <= k - 1 for p, k in zip(self.padding, self.kernel_size))
                and not torch.compiler.is_compiling())

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        if not self.applies(X):
            return super().forward(X)
        return _Conv2d.apply(X, self.weight, self.bias, tuple(self.padding))
