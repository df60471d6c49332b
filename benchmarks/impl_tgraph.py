"""tgraph: every workload through the public API, tgraph.compile_scalar / tgraph.compile_out and
then an entry point (the inputs, numpy arrays, also serve as the input specs). On the GPU
(device="cuda"): target="cuda", the inputs copied there once with tgraph.to_device."""

import tgraph as tg
from systems import NoDevice

DEVICES = ("cpu", "cuda")


def mlp_loss(x, w1, b1, w2, b2, w3, b3, labels):
    h = tg.relu(x @ w1 + b1)
    h = tg.relu(h @ w2 + b2)
    return tg.cross_entropy(h @ w3 + b3, labels)


def cnn_loss(x, k1, c1, k2, c2, w, b, labels):
    h = tg.max_pool2d(tg.relu(tg.conv2d(x, k1, c1, padding=1)), 2)
    h = tg.max_pool2d(tg.relu(tg.conv2d(h, k2, c2, padding=1)), 2)
    return tg.cross_entropy(h.reshape(h.shape[0], -1) @ w + b, labels)


def rnn_loss(checkpoint=None):
    # x @ u in the body, where the peers compute it for all steps at once: as one matmul of the
    # reshaped xs, its gradient (a contraction over steps and batch) is not yet tiled by the CPU
    # codegen (upstream fusion folds the reshape into it, leaving two reduced dimensions).
    def loss(xs, w, u, b, target):
        h, _ = tg.scan(lambda h, x: (tg.tanh(h @ w + x @ u + b), None), tg.zeros_like(target), xs,
                       checkpoint=checkpoint)
        return tg.mean((h - target) ** 2)
    return loss


def _attention(z, wq, wk, wv, wo, heads):
    b, n, d = z.shape

    def split(t):  # (b, n, d) -> (b, heads, n, d / heads)
        return tg.transpose(t.reshape(b, n, heads, d // heads), (0, 2, 1, 3))
    q, k, v = split(z @ wq), split(z @ wk), split(z @ wv)
    weights = tg.softmax(q @ tg.transpose(k, (0, 1, 3, 2)) * (1 / (d // heads) ** 0.5))
    return tg.transpose(weights @ v, (0, 2, 1, 3)).reshape(b, n, d) @ wo


def transformer_loss(x, wq, wk, wv, wo, w1, b1, w2, b2, target):
    from workloads import TRANSFORMER
    h = x + _attention(tg.layer_norm(x, eps=1e-5), wq, wk, wv, wo, TRANSFORMER["heads"])
    out = h + tg.tanh(tg.layer_norm(h, eps=1e-5) @ w1 + b1) @ w2 + b2
    return tg.mean((out - target) ** 2)


def _on(device, inputs):
    """The arguments of the timed calls: the numpy inputs, or copies of them on the GPU."""
    if device == "cpu":
        return inputs
    try:
        return [tg.to_device(a) for a in inputs]
    except tg.TGraphError as err:
        raise NoDevice(str(err)) from None


def _value_and_grad(loss, inputs, device="cpu"):
    """Gradients with respect to the parameters: every input but the data (first) and the labels (last)."""
    step = tg.compile_scalar(loss, inputs, wrt=range(1, len(inputs) - 1), target=device)
    args = _on(device, inputs)
    return lambda: step.value_and_grad(*args)


def _forward(fn, inputs, device="cpu"):
    compiled = tg.compile_out(fn, inputs, target=device)
    args = _on(device, inputs)
    return lambda: compiled.forward(*args)


def mlp_value_and_grad(inputs, device="cpu"):
    return _value_and_grad(mlp_loss, inputs, device)


def transformer_value_and_grad(inputs):
    return _value_and_grad(transformer_loss, inputs)


def mlp_forward(inputs):
    step = tg.compile_scalar(mlp_loss, inputs)
    return lambda: step.forward(*inputs)


def cnn_value_and_grad(inputs):
    return _value_and_grad(cnn_loss, inputs)


def rnn_value_and_grad(inputs):
    return _value_and_grad(rnn_loss(), inputs)


def rnn_value_and_grad_checkpoint(inputs):
    from workloads import RNN_CHECKPOINT
    return _value_and_grad(rnn_loss(RNN_CHECKPOINT), inputs)


def matmul(inputs, device="cpu"):
    return _forward(lambda a, b: a @ b, inputs, device)


def matmul_tn(inputs):
    return _forward(lambda a, b: tg.transpose(a) @ b, inputs)


def matmul_nt(inputs):
    return _forward(lambda a, b: a @ tg.transpose(b), inputs)


def tanh_fma(inputs):
    return _forward(lambda a, b, c: tg.tanh(a * b + c), inputs)


def softmax(inputs, device="cpu"):
    return _forward(lambda x: tg.softmax(x), inputs, device)


def layer_norm(inputs):
    return _forward(lambda x: tg.layer_norm(x, eps=1e-5), inputs)


def small_call(inputs):
    return _forward(lambda x, y: x * y + 1, inputs)


def _example_loss(x, w1, b1, w2, b2, w3, b3, label):
    """The MLP's loss on one example (x of 784, a scalar label)."""
    return mlp_loss(x.reshape(1, -1), w1, b1, w2, b2, w3, b3, label.reshape(1))


def per_example_grads(inputs):
    """tgraph.vmap of tgraph.grad (the tg-batch pass over the adjoint), one compiled function."""
    per_example = tg.jit(tg.vmap(tg.grad(_example_loss, wrt=tuple(range(1, 7))), in_axes=(0,) + (None,) * 6 + (0,)))
    return lambda: per_example(*inputs)


def mlp_loss_bf16(x, w1, b1, w2, b2, w3, b3, labels):
    """The MLP with bf16 matmuls accumulating in f32 (their inputs cast in the step; the master
    weights, biases and the softmax stay f32)."""
    def dense(h, w, b):
        return tg.matmul(h.astype(tg.bf16), w.astype(tg.bf16), preferred_element_type=tg.f32) + b
    h = tg.relu(dense(x, w1, b1))
    h = tg.relu(dense(h, w2, b2))
    return tg.cross_entropy(dense(h, w3, b3), labels)


def mlp_train_step(inputs, loss=mlp_loss):
    """@tg.jit over value_and_grad and tg.optim.adam's update: one compiled function per step."""
    from workloads import ADAM_LR

    optimizer = tg.optim.adam(ADAM_LR)

    @tg.jit
    def train_step(params, opt_state, x, labels):
        value, grads = tg.value_and_grad(lambda ps: loss(x, *ps, labels))(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return value, tg.optim.apply_updates(params, updates), opt_state

    x, *params, labels = inputs
    state = optimizer.init(params)
    return lambda: train_step(params, state, x, labels)[:2]


def mlp_train_step_bf16(inputs):
    return mlp_train_step(inputs, mlp_loss_bf16)

