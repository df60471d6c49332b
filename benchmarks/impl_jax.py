"""JAX: every workload under jax.jit (gradients by jax.value_and_grad); calls wait for the result.
On the GPU (device="cuda", with a CUDA build of jaxlib): the inputs put on the GPU once."""

import jax
import jax.numpy as jnp
from jax import lax

from systems import NoDevice

DEVICES = ("cpu", "cuda")


def _cross_entropy(z, labels):
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(z), labels[:, None], axis=1))


def mlp_loss(x, w1, b1, w2, b2, w3, b3, labels):
    h = jax.nn.relu(x @ w1 + b1)
    h = jax.nn.relu(h @ w2 + b2)
    return _cross_entropy(h @ w3 + b3, labels)


def _conv3x3(x, k, c):
    y = lax.conv_general_dilated(x, k, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW"))
    return y + c[None, :, None, None]


def _pool2x2(h):
    return lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def cnn_loss(x, k1, c1, k2, c2, w, b, labels):
    h = _pool2x2(jax.nn.relu(_conv3x3(x, k1, c1)))
    h = _pool2x2(jax.nn.relu(_conv3x3(h, k2, c2)))
    return _cross_entropy(h.reshape(h.shape[0], -1) @ w + b, labels)


def _layer_norm(x):
    centered = x - jnp.mean(x, axis=-1, keepdims=True)
    return centered * lax.rsqrt(jnp.mean(centered * centered, axis=-1, keepdims=True) + 1e-5)


def _attention(z, wq, wk, wv, wo, heads):
    b, n, d = z.shape

    def split(t):
        return (t.reshape(b, n, heads, d // heads)).transpose(0, 2, 1, 3)
    q, k, v = split(z @ wq), split(z @ wk), split(z @ wv)
    weights = jax.nn.softmax(q @ k.transpose(0, 1, 3, 2) * (1 / (d // heads) ** 0.5))
    return (weights @ v).transpose(0, 2, 1, 3).reshape(b, n, d) @ wo


def transformer_loss(x, wq, wk, wv, wo, w1, b1, w2, b2, target):
    from workloads import TRANSFORMER
    h = x + _attention(_layer_norm(x), wq, wk, wv, wo, TRANSFORMER["heads"])
    out = h + jnp.tanh(_layer_norm(h) @ w1 + b1) @ w2 + b2
    return jnp.mean((out - target) ** 2)


def rnn_loss(xs, w, u, b, target):
    xu = xs @ u

    def step(h, x):
        return jnp.tanh(h @ w + x + b), None
    h, _ = lax.scan(step, jnp.zeros_like(target), xu)
    return jnp.mean((h - target) ** 2)


def _device(device):
    if device == "cpu":
        return None  # the default device
    try:
        return jax.devices("gpu")[0]
    except RuntimeError as err:
        raise NoDevice(f"JAX sees no GPU ({err})") from None


def _jit(fn, inputs, device="cpu"):
    fn, where = jax.jit(fn), _device(device)
    args = [jax.device_put(a, where) for a in inputs]
    return lambda: jax.block_until_ready(fn(*args))


def _value_and_grad(loss, inputs, device="cpu"):
    """Gradients with respect to the parameters: every input but the data (first) and the labels (last)."""
    return _jit(jax.value_and_grad(loss, argnums=tuple(range(1, len(inputs) - 1))), inputs, device)


def mlp_value_and_grad(inputs, device="cpu"):
    return _value_and_grad(mlp_loss, inputs, device)


def mlp_forward(inputs):
    return _jit(mlp_loss, inputs)


def cnn_value_and_grad(inputs):
    return _value_and_grad(cnn_loss, inputs)


def rnn_value_and_grad(inputs):
    return _value_and_grad(rnn_loss, inputs)


def matmul(inputs, device="cpu"):
    return _jit(jnp.matmul, inputs, device)


def matmul_tn(inputs):
    return _jit(lambda a, b: a.T @ b, inputs)


def matmul_nt(inputs):
    return _jit(lambda a, b: a @ b.T, inputs)


def transformer_value_and_grad(inputs):
    return _value_and_grad(transformer_loss, inputs)


def tanh_fma(inputs):
    return _jit(lambda a, b, c: jnp.tanh(a * b + c), inputs)


def softmax(inputs, device="cpu"):
    return _jit(jax.nn.softmax, inputs, device)


def layer_norm(inputs):
    return _jit(_layer_norm, inputs)


def small_call(inputs):
    return _jit(lambda x, y: x * y + 1, inputs)


def _example_loss(x, w1, b1, w2, b2, w3, b3, label):
    return mlp_loss(x[None], w1, b1, w2, b2, w3, b3, label[None])


def per_example_grads(inputs):
    return _jit(jax.vmap(jax.grad(_example_loss, argnums=tuple(range(1, 7))), in_axes=(0,) + (None,) * 6 + (0,)), inputs)


def mlp_loss_bf16(x, w1, b1, w2, b2, w3, b3, labels):
    """bf16 matmuls accumulating in f32 (preferred_element_type), f32 master weights and softmax."""
    def dense(h, w, b):
        return jnp.matmul(h.astype(jnp.bfloat16), w.astype(jnp.bfloat16), preferred_element_type=jnp.float32) + b
    h = jax.nn.relu(dense(x, w1, b1))
    h = jax.nn.relu(dense(h, w2, b2))
    return _cross_entropy(dense(h, w3, b3), labels)


def mlp_train_step_bf16(inputs):
    return mlp_train_step(inputs, mlp_loss_bf16)


def mlp_train_step(inputs, loss=mlp_loss):
    """jax.jit over value_and_grad and Adam written with jax.numpy as optax's (bias-corrected,
    eps outside the square root)."""
    from workloads import ADAM_LR
    b1, b2, eps = 0.9, 0.999, 1e-8

    def train_step(params, state, x, labels):
        count, mu, nu = state
        value, grads = jax.value_and_grad(lambda ps: loss(x, *ps, labels))(params)
        mu = [b1 * m + (1 - b1) * g for m, g in zip(mu, grads)]
        nu = [b2 * v + (1 - b2) * g * g for v, g in zip(nu, grads)]
        count = count + 1
        t = count.astype(jnp.float32)
        new = [p - ADAM_LR * (m / (1 - b1 ** t)) / (jnp.sqrt(v / (1 - b2 ** t)) + eps)
               for p, m, v in zip(params, mu, nu)]
        return value, new, (count, mu, nu)

    x, *params, labels = [jnp.asarray(a) for a in inputs]
    state = (jnp.zeros((), jnp.int32), [jnp.zeros_like(p) for p in params], [jnp.zeros_like(p) for p in params])
    step = jax.jit(train_step)
    return lambda: jax.block_until_ready(step(params, state, x, labels)[:2])

