"""The two AD passes agree: <vjp(ct), t> = <ct, jvp(t)> on random graphs built by hypothesis.
Both sides are generated code, so they must agree to rounding, not to finite-difference accuracy."""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import tgraph as tg

UNARY = [tg.tanh, tg.sin, tg.cos, tg.sigmoid, tg.softplus, tg.negative, tg.abs, tg.relu, lambda x: tg.exp(0.3 * x)]
BINARY = [tg.add, tg.subtract, tg.multiply, tg.maximum, tg.minimum, lambda x, y: x / (1.0 + y * y),
          lambda x, y: tg.where(x > y, x, y * 2.0)]


def _same_shape(data, pool, x):
    return data.draw(st.sampled_from([v for v in pool if v.shape == x.shape]))


def _axis(data, x):
    return data.draw(st.integers(0, x.ndim - 1))


def step(data, pool):
    """One random op on values of the pool."""
    x = data.draw(st.sampled_from(pool))
    kinds = ["unary", "binary", "broadcast"] + (["sum", "max", "flip", "reshape", "slice", "pad", "concat"] if x.ndim else [])
    kinds += ["transpose", "matmul"] if x.ndim == 2 else []
    kind = data.draw(st.sampled_from(kinds))
    if kind == "unary":
        return data.draw(st.sampled_from(UNARY))(x)
    if kind == "binary":
        return data.draw(st.sampled_from(BINARY))(x, _same_shape(data, pool, x))
    if kind == "broadcast":
        return tg.broadcast_to(x, (2,) + x.shape)
    if kind in ("sum", "max"):
        return (tg.sum if kind == "sum" else tg.max)(x, axis=_axis(data, x), keepdims=data.draw(st.booleans()))
    if kind == "flip":
        return tg.flip(x, _axis(data, x))
    if kind == "reshape":
        return x.reshape(-1) if x.ndim > 1 else x.reshape(x.shape + (1,))
    if kind == "slice":
        return x[1::2] if x.shape[0] > 1 else x[:, None]
    if kind == "pad":
        return tg.pad(x, [(1, 2)] + [(0, 0)] * (x.ndim - 1), interior=(data.draw(st.integers(0, 1)),) + (0,) * (x.ndim - 1))
    if kind == "concat":
        return tg.concatenate([x, _same_shape(data, pool, x)], axis=_axis(data, x))
    if kind == "transpose":
        return x.T
    return x @ x.T


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_vjp_is_the_transpose_of_jvp(data):
    shapes = [(3, 4), (3, 4), (4,)]

    def random_function(*xs):
        pool = list(xs)
        for _ in range(data.draw(st.integers(1, 8))):
            pool.append(step(data, pool))
        return pool[-1], data.draw(st.sampled_from(pool))

    graph = tg.trace(random_function, [tg.f64[s] for s in shapes])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    xs = [rng.standard_normal(s) for s in shapes]
    ts = [rng.standard_normal(s) for s in shapes]
    cts = [rng.standard_normal(s.shape) for s in graph.output_specs]
    jvp_out = tg.jvp(graph)(*xs, *ts)
    tangents_out = jvp_out[len(cts):]
    grads = tg.vjp(graph)(*xs, *cts)
    grads = grads if isinstance(grads, tuple) else (grads,)
    lhs = sum(np.vdot(g, t) for g, t in zip(grads, ts))
    rhs = sum(np.vdot(c, d) for c, d in zip(cts, tangents_out))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
