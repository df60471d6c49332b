"""PyTorch: every workload eager, or under torch.compile with `compiled=True` (then the first call
compiles: 10-20 s for a training step with an empty inductor cache). Gradients by .backward() on
the (compiled) loss; labels become int64, as cross_entropy needs, before timing. On the GPU
(device="cuda"): the inputs moved there once, and each call waits for the GPU to finish."""

import contextlib
import os

import torch
import torch.nn.functional as F

from systems import NoDevice, NotApplicable

DEVICES = ("cpu", "cuda")

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))


def mlp_loss(x, w1, b1, w2, b2, w3, b3, labels):
    h = torch.relu(x @ w1 + b1)
    h = torch.relu(h @ w2 + b2)
    return F.cross_entropy(h @ w3 + b3, labels)


def cnn_loss(x, k1, c1, k2, c2, w, b, labels):
    h = F.max_pool2d(torch.relu(F.conv2d(x, k1, c1, padding=1)), 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, k2, c2, padding=1)), 2)
    return F.cross_entropy(h.reshape(h.shape[0], -1) @ w + b, labels)


def rnn_loss(xs, w, u, b, target):
    xu = xs @ u
    h = torch.zeros_like(target)
    for x in xu:  # eager PyTorch has no scan: the loop runs in Python, autograd records each step
        h = torch.tanh(h @ w + x + b)
    return torch.mean((h - target) ** 2)


def _layer_norm(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-5)


def _tensors(inputs, device="cpu"):
    """Tensors sharing the arrays' memory (or copies on the GPU); integer labels as int64."""
    if device == "cuda" and not torch.cuda.is_available():
        raise NoDevice("PyTorch sees no CUDA device")
    tensors = [torch.from_numpy(a).long() if a.dtype.kind == "i" else torch.from_numpy(a) for a in inputs]
    return [t.to(device) for t in tensors]


def _waiting(call, device):
    """`call`, and on the GPU a wait for the work it queued."""
    if device == "cpu":
        return call

    def synchronized():
        result = call()
        torch.cuda.synchronize()
        return result
    return synchronized


def _maybe_compile(fn, compiled):
    return torch.compile(fn) if compiled else fn


def _call(fn, inputs, compiled, device="cpu"):
    fn, args = _maybe_compile(fn, compiled), _tensors(inputs, device)
    return _waiting(lambda: fn(*args), device)


def _value_and_grad(loss, inputs, compiled, device="cpu"):
    """Gradients with respect to the parameters: every input but the data (first) and the labels (last)."""
    loss = _maybe_compile(loss, compiled)
    x, *params, labels = _tensors(inputs, device)
    params = [p.requires_grad_() for p in params]

    def step():
        for p in params:
            p.grad = None
        value = loss(x, *params, labels)
        value.backward()
        return value.detach(), [p.grad for p in params]
    return _waiting(step, device)


def mlp_value_and_grad(inputs, compiled=False, device="cpu"):
    return _value_and_grad(mlp_loss, inputs, compiled, device)


def mlp_forward(inputs, compiled=False):
    return _call(mlp_loss, inputs, compiled)


def cnn_value_and_grad(inputs, compiled=False):
    return _value_and_grad(cnn_loss, inputs, compiled)


def rnn_value_and_grad(inputs, compiled=False):
    if compiled:  # torch.compile would unroll the 1,000 steps of the Python loop
        raise NotApplicable("torch.compile unrolls Python loops")
    return _value_and_grad(rnn_loss, inputs, compiled)


def matmul(inputs, compiled=False, device="cpu"):
    return _call(torch.matmul, inputs, compiled, device)


def matmul_tn(inputs, compiled=False):
    return _call(lambda a, b: a.T @ b, inputs, compiled)


def matmul_nt(inputs, compiled=False):
    return _call(lambda a, b: a @ b.T, inputs, compiled)


def tanh_fma(inputs, compiled=False):
    return _call(lambda a, b, c: torch.tanh(a * b + c), inputs, compiled)


def softmax(inputs, compiled=False, device="cpu"):
    return _call(lambda x: torch.softmax(x, dim=-1), inputs, compiled, device)


def layer_norm(inputs, compiled=False):
    return _call(_layer_norm, inputs, compiled)


def small_call(inputs, compiled=False):
    return _call(lambda x, y: x * y + 1, inputs, compiled)


def _example_loss(x, w1, b1, w2, b2, w3, b3, label):
    return mlp_loss(x[None], w1, b1, w2, b2, w3, b3, label[None])


def per_example_grads(inputs, compiled=False):
    if compiled:
        raise NotApplicable("measured eager: torch.func transforms, as their documentation shows them")
    import torch.func
    per_example = torch.func.vmap(torch.func.grad(_example_loss, argnums=tuple(range(1, 7))),
                                  in_dims=(0,) + (None,) * 6 + (0,))
    return _call(per_example, inputs, compiled)


def mlp_train_step_bf16(inputs, compiled=False):
    """The same step under torch.autocast("cpu", bfloat16), PyTorch's mixed-precision recipe: its
    matmuls read and write bf16, the loss and the optimizer stay f32."""
    return mlp_train_step(inputs, compiled, autocast=torch.bfloat16)


def mlp_train_step(inputs, compiled=False, autocast=None):
    """loss.backward(); opt.step() with torch.optim.Adam (foreach, its default on the CPU); each
    call trains one more step on the same batch (the first call's result is checked)."""
    from workloads import ADAM_LR

    loss = _maybe_compile(mlp_loss, compiled)
    x, *params, labels = _tensors([a.copy() if a.dtype.kind == "f" else a for a in inputs])
    params = [p.requires_grad_() for p in params]
    optimizer = torch.optim.Adam(params, lr=ADAM_LR, betas=(0.9, 0.999), eps=1e-8)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=autocast) if autocast else contextlib.nullcontext():
            value = loss(x, *params, labels)
        value.backward()
        optimizer.step()
        return value.detach(), [p.detach() for p in params]
    return step

