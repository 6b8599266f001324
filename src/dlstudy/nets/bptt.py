"""Backpropagation through time by hand for the GRU and the tanh RNN on the CPU: nn.GRU and nn.RNN, faster to train.

On the CPU, torch trains an LSTM through oneDNN's fused kernels, but a GRU or a plain RNN through autograd: a dozen
small nodes per time step, whose bookkeeping costs far more than their arithmetic on a small batch. Here the
forward is torch's own call (`torch.gru` / `torch.rnn_tanh`, as nn.GRU makes it: the outputs are the same to the
bit), run without a graph. The backward recomputes every step's gates at once from the saved outputs, walks back
through time with three operations a step (the GRU) or two (the RNN), and forms each weight's gradient as one
matrix product over all steps. The gradients agree with autograd's to rounding (tests: in float64, against
torch), so training follows the same path until rounding tells (a run that is chaotic, like a tanh RNN that does
not learn, ends elsewhere). It applies where that holds: CPU, float32 or float64, gradients on, batched and not
packed, one direction, biases, no dropout between layers while training, no autocast, not inside torch.compile;
elsewhere the modules are nn.GRU and nn.RNN as they are. Second derivatives through it (create_graph) are an
error: build the net with hand_bptt=false for them. Speed: `make bench-backward` (docs/benchmarks.md).
"""

import torch
from torch import nn


def first_derivatives_only() -> None:
    """The backward's own operations are not differentiated again: under create_graph, say so instead of
    returning a graph that would leave this layer out of the second derivative."""
    if torch.is_grad_enabled():
        raise RuntimeError("dlstudy.nets.bptt computes first derivatives only (create_graph=True asks for more): "
                           "build the net with hand_bptt=false")


def weight_grad(dG: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """sum over steps and samples of dG_t^T x_t: (G, I), for dG (T, B, G) and X (T, B, I), as (X^T dG)^T, a
    layout MKL runs several times faster than dG^T X when I is small (2 inputs: 0.12 ms against 0.76)."""
    return (X.reshape(-1, X.shape[-1]).t() @ dG.reshape(-1, dG.shape[-1])).t()


def input_grad(ctx, dG: torch.Tensor, W: torch.Tensor, X: torch.Tensor) -> torch.Tensor | None:
    """dG W: (T, B, I) for dG (T, B, G) and W (G, I), as (W^T dG^T)^T (see weight_grad); None if X needs none."""
    if not ctx.needs_input_grad[0]:
        return None
    return (W.t() @ dG.reshape(-1, dG.shape[-1]).t()).t().view(X.shape)


class _GRULayer(torch.autograd.Function):
    """One GRU layer over a time-major sequence: X (T, B, I), h0 (B, H) -> the hidden states (T, B, H)."""

    @staticmethod
    def forward(ctx, X, h0, W_ih, W_hh, b_ih, b_hh):
        out, _ = torch.gru(X, h0.unsqueeze(0), [W_ih, W_hh, b_ih, b_hh], True, 1, 0.0, True, False, False)
        ctx.save_for_backward(X, h0, W_ih, W_hh, b_ih, b_hh, out)
        return out

    @staticmethod
    def backward(ctx, dout):
        first_derivatives_only()
        X, h0, W_ih, W_hh, b_ih, b_hh, out = ctx.saved_tensors
        T, B, H = out.shape
        Hprev = torch.cat([h0.unsqueeze(0), out[:-1]])  # (T, B, H): h_{t-1}
        gi = torch.addmm(b_ih, X.reshape(T * B, -1), W_ih.t()).view(T, B, 3, H)  # W_i[r,z,n] x_t + b_i
        gh = torch.addmm(b_hh, Hprev.view(T * B, H), W_hh.t()).view(T, B, 3, H)  # W_h[r,z,n] h_{t-1} + b_h
        rz = gi[:, :, :2].add_(gh[:, :, :2]).sigmoid_()  # (T, B, 2, H): the reset and update gates
        r, z, ghn = rz[:, :, 0], rz[:, :, 1], gh[:, :, 2]
        n = gi[:, :, 2].addcmul_(r, ghn).mul_(2).sigmoid_().mul_(2).sub_(1)  # tanh(a) = 2 sigmoid(2a) - 1: torch's
        # CPU tanh takes about three times as long; the difference is rounding, and n only enters the gradients
        # d h_t -> d(pre-activations of step t), elementwise: r's, z's, that of W_hn h_{t-1} + b_hn, and n's (Cn)
        Cn = (1 - z).mul_(1 - n * n)  # (T, B, H); h_t = (1 - z) n + z h_{t-1}
        S = torch.addcmul(rz, rz, rz, value=-1)  # (T, B, 2, H): sigmoid' of r and z
        C = torch.empty_like(gh)  # (T, B, 3, H)
        torch.mul(Cn, ghn, out=C[:, :, 0]).mul_(S[:, :, 0])
        torch.sub(Hprev, n, out=C[:, :, 1]).mul_(S[:, :, 1])
        torch.mul(Cn, r, out=C[:, :, 2])
        dGh = torch.empty_like(C)  # d(W_hh h_{t-1} + b_hh)
        DH = dout.clone(memory_format=torch.contiguous_format)  # d h_t: d out_t, and below what h_{t+1} sends back
        C_t, dGh_t, dGh2_t = C.unbind(0), dGh.unbind(0), dGh.view(T, B, 3 * H).unbind(0)
        DH_t, DH3_t, z_t = DH.unbind(0), DH.unsqueeze(2).unbind(0), z.unbind(0)
        for t in range(T - 1, 0, -1):  # d h_{t-1} += d h_t z_t + d(W_hh h_{t-1} + b_hh) W_hh
            torch.mul(C_t[t], DH3_t[t], out=dGh_t[t])
            DH_t[t - 1].addcmul_(DH_t[t], z_t[t]).addmm_(dGh2_t[t], W_hh)
        torch.mul(C_t[0], DH3_t[0], out=dGh_t[0])
        dh0 = torch.addmm(DH_t[0] * z_t[0], dGh2_t[0], W_hh)
        dGi = dGh.clone()
        dGi[:, :, 2] = DH * Cn  # n's pre-activation takes W_in x_t + b_in whole, r only multiplies the h part
        dGi, dGh = dGi.view(T * B, 3 * H), dGh.view(T * B, 3 * H)
        return (input_grad(ctx, dGi, W_ih, X), dh0, weight_grad(dGi, X), weight_grad(dGh, Hprev), dGi.sum(0),
                dGh.sum(0))


class _TanhLayer(torch.autograd.Function):
    """One tanh RNN layer over a time-major sequence: X (T, B, I), h0 (B, H) -> the hidden states (T, B, H)."""

    @staticmethod
    def forward(ctx, X, h0, W_ih, W_hh, b_ih, b_hh):
        out, _ = torch.rnn_tanh(X, h0.unsqueeze(0), [W_ih, W_hh, b_ih, b_hh], True, 1, 0.0, True, False, False)
        ctx.save_for_backward(X, h0, W_ih, W_hh, out)
        return out

    @staticmethod
    def backward(ctx, dout):
        first_derivatives_only()
        X, h0, W_ih, W_hh, out = ctx.saved_tensors
        T, B, H = out.shape
        A = torch.addcmul(torch.ones_like(out), out, out, value=-1)  # (T, B, H): tanh' at each step
        dPre = torch.empty_like(out)  # d(pre-activation of step t)
        DH = dout.clone(memory_format=torch.contiguous_format)  # d h_t: d out_t, and below what h_{t+1} sends back
        A_t, dPre_t, DH_t = A.unbind(0), dPre.unbind(0), DH.unbind(0)
        for t in range(T - 1, 0, -1):  # d h_{t-1} += d pre_t W_hh
            DH_t[t - 1].addmm_(torch.mul(DH_t[t], A_t[t], out=dPre_t[t]), W_hh)
        dh0 = torch.mul(DH_t[0], A_t[0], out=dPre_t[0]) @ W_hh
        Hprev = torch.cat([h0.unsqueeze(0), out[:-1]])
        db = dPre.view(T * B, H).sum(0)
        return input_grad(ctx, dPre, W_ih, X), dh0, weight_grad(dPre, X), weight_grad(dPre, Hprev), db, db.clone()


def by_hand(module: nn.RNNBase, X) -> bool:
    """Whether this forward can take the hand-written backward (the module docstring's conditions)."""
    return (isinstance(X, torch.Tensor) and X.dim() == 3 and X.device.type == "cpu"
            and X.dtype in (torch.float32, torch.float64) and torch.is_grad_enabled()
            and (X.requires_grad or any(p.requires_grad for p in module.parameters()))
            and module.bias and not module.bidirectional and getattr(module, "nonlinearity", "tanh") == "tanh"
            and not (module.training and module.dropout > 0 and module.num_layers > 1)
            and not torch.is_autocast_enabled("cpu") and not torch.compiler.is_compiling())


def run_layers(module: nn.RNNBase, layer: type[torch.autograd.Function], X: torch.Tensor, hx: torch.Tensor | None):
    """(output, h_n) as nn.GRU / nn.RNN return them, one layer after another through `layer`."""
    seq = X.transpose(0, 1) if module.batch_first else X  # (T, B, I)
    if hx is None:
        hx = seq.new_zeros(module.num_layers, seq.shape[1], module.hidden_size)
    module.check_forward_args(X, hx, None)
    last = []
    for i in range(module.num_layers):
        seq = layer.apply(seq, hx[i], *module.all_weights[i])  # (T, B, H); w_ih, w_hh, b_ih, b_hh
        last.append(seq[-1])
    return (seq.transpose(0, 1) if module.batch_first else seq), torch.stack(last)  # h_n: (num_layers, B, H)


class GRU(nn.GRU):
    """nn.GRU (the same parameters and results) whose training on the CPU backpropagates by hand."""

    def forward(self, input, hx=None):
        return run_layers(self, _GRULayer, input, hx) if by_hand(self, input) else super().forward(input, hx)


class TanhRNN(nn.RNN):
    """nn.RNN with tanh (the same parameters and results) whose training on the CPU backpropagates by hand."""

    def forward(self, input, hx=None):
        return run_layers(self, _TanhLayer, input, hx) if by_hand(self, input) else super().forward(input, hx)
