"""numpy: every workload written by hand (gradients too), as a user would without a framework.

The functions follow their inputs' dtype: on f32 inputs they are the numpy peer; on f64 copies they
are the reference the other systems are checked against."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _cross_entropy(z, labels):
    """Mean softmax cross-entropy of logits z and its gradient dz."""
    rows = np.arange(len(labels))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    total = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(total[:, 0]) - z[rows, labels])
    dz = e / total
    dz[rows, labels] -= 1
    return loss, dz / len(labels)


def _mlp(x, w1, b1, w2, b2, w3, b3, labels):
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    loss, dz = _cross_entropy(h2 @ w3 + b3, labels)
    dh2 = (dz @ w3.T) * (h2 > 0)
    dh1 = (dh2 @ w2.T) * (h1 > 0)
    return loss, (x.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0))


def _mlp_loss(x, w1, b1, w2, b2, w3, b3, labels):
    h = np.maximum(np.maximum(x @ w1 + b1, 0) @ w2 + b2, 0)
    return _cross_entropy(h @ w3 + b3, labels)[0]


def _conv3x3(x, k, c):
    """Stride 1, padding 1; also the windows, for the backward pass."""
    windows = sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", windows, k, optimize=True) + c[:, None, None], windows


def _conv3x3_backward(dy, windows, k):
    """(dx, dk, dc): dx is the full convolution of dy with the flipped kernel."""
    dk = np.einsum("nchwij,nohw->ocij", windows, dy, optimize=True)
    dy_windows = sliding_window_view(np.pad(dy, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    dx = np.einsum("nohwij,ocij->nchw", dy_windows, k[:, :, ::-1, ::-1], optimize=True)
    return dx, dk, dy.sum(axis=(0, 2, 3))


def _pool2x2(h):
    """2x2 max-pool and its backward (the gradient goes to the maximum of each window)."""
    n, c, height, width = h.shape
    y = h.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5))
    hit = h == y.repeat(2, axis=2).repeat(2, axis=3)
    return y, lambda dy: hit * dy.repeat(2, axis=2).repeat(2, axis=3)


def _cnn(x, k1, c1, k2, c2, w, b, labels):
    a1, windows1 = _conv3x3(x, k1, c1)
    h1 = np.maximum(a1, 0)
    p1, pool1_backward = _pool2x2(h1)
    a2, windows2 = _conv3x3(p1, k2, c2)
    h2 = np.maximum(a2, 0)
    p2, pool2_backward = _pool2x2(h2)
    flat = p2.reshape(len(x), -1)
    loss, dz = _cross_entropy(flat @ w + b, labels)
    da2 = pool2_backward((dz @ w.T).reshape(p2.shape)) * (a2 > 0)
    dp1, dk2, dc2 = _conv3x3_backward(da2, windows2, k2)
    da1 = pool1_backward(dp1) * (a1 > 0)
    _, dk1, dc1 = _conv3x3_backward(da1, windows1, k1)
    return loss, (dk1, dc1, dk2, dc2, flat.T @ dz, dz.sum(0))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _layer_norm(x):
    centered = x - x.mean(axis=-1, keepdims=True)
    return centered / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + 1e-5)


def transformer_loss(x, wq, wk, wv, wo, w1, b1, w2, b2, target):
    """The loss only: the first-call rows check the loss (the gradients are JAX's and tgraph's)."""
    from workloads import TRANSFORMER
    heads = TRANSFORMER["heads"]
    b, n, d = x.shape

    def split(t):
        return t.reshape(b, n, heads, d // heads).transpose(0, 2, 1, 3)

    def attention(z):
        q, k, v = split(z @ wq), split(z @ wk), split(z @ wv)
        weights = _softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(d // heads))
        return (weights @ v).transpose(0, 2, 1, 3).reshape(b, n, d) @ wo
    h = x + attention(_layer_norm(x))
    out = h + np.tanh(_layer_norm(h) @ w1 + b1) @ w2 + b2
    return np.mean((out - target) ** 2)


def _rnn(xs, w, u, b, target):
    """Backpropagation through time by hand: the forward keeps every hidden state."""
    hs = [np.zeros_like(target)]
    xu = xs @ u
    for x in xu:
        hs.append(np.tanh(hs[-1] @ w + x + b))
    diff = hs[-1] - target
    loss = np.mean(diff * diff)
    dh = 2 * diff / diff.size
    dw, db, dxu = np.zeros_like(w), np.zeros_like(b), np.zeros_like(xu)
    for t in range(len(xs) - 1, -1, -1):
        da = dh * (1 - hs[t + 1] ** 2)
        dw += hs[t].T @ da
        db += da.sum(0)
        dxu[t] = da
        dh = da @ w.T
    du = xs.reshape(-1, xs.shape[-1]).T @ dxu.reshape(-1, dxu.shape[-1])
    return loss, (dw, du, db)


def _call(fn, inputs):
    return lambda: fn(*inputs)


def mlp_value_and_grad(inputs):
    return _call(_mlp, inputs)


def mlp_forward(inputs):
    return _call(_mlp_loss, inputs)


def cnn_value_and_grad(inputs):
    return _call(_cnn, inputs)


def rnn_value_and_grad(inputs):
    return _call(_rnn, inputs)


def matmul(inputs):
    return _call(np.matmul, inputs)


def matmul_tn(inputs):
    return _call(lambda a, b: a.T @ b, inputs)


def matmul_nt(inputs):
    return _call(lambda a, b: a @ b.T, inputs)


def tanh_fma(inputs):
    return _call(lambda a, b, c: np.tanh(a * b + c), inputs)


def softmax(inputs):
    return _call(_softmax, inputs)


def layer_norm(inputs):
    return _call(_layer_norm, inputs)


def small_call(inputs):
    return _call(lambda x, y: x * y + 1, inputs)


def _per_example_grads(x, w1, b1, w2, b2, w3, b3, labels):
    """Each example's gradient (not averaged over the batch): the batch backward pass with the
    per-example deltas kept, and outer products for the weights."""
    h1 = np.maximum(x @ w1 + b1, 0)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    _, dz = _cross_entropy(h2 @ w3 + b3, labels)
    dz = dz * len(labels)  # each example's loss is its own mean over one row
    dh2 = (dz @ w3.T) * (h2 > 0)
    dh1 = (dh2 @ w2.T) * (h1 > 0)
    outer = lambda a, b: np.einsum("bi,bj->bij", a, b)  # noqa: E731
    return outer(x, dh1), dh1, outer(h1, dh2), dh2, outer(h2, dz), dz


def per_example_grads(inputs):
    return _call(_per_example_grads, inputs)


def _adam_first_step(params, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """One Adam step from zero moments at count 0 (optax's formula, bias-corrected)."""
    out = []
    for p, g in zip(params, grads):
        m, v = (1 - b1) * g, (1 - b2) * g * g
        out.append(p - lr * (m / (1 - b1)) / (np.sqrt(v / (1 - b2)) + eps))
    return out


def mlp_train_step(inputs):
    """The loss and the parameters after one Adam step (the gradients by hand, as above)."""
    from workloads import ADAM_LR

    def step(x, *rest):
        params, labels = rest[:-1], rest[-1]
        loss, grads = _mlp(x, *params, labels)
        return loss, _adam_first_step(params, grads, ADAM_LR)
    return _call(step, inputs)

