"""The numpy-like functions and composites, checked against numpy through the interpreter."""

import math

import numpy as np
import pytest

import tgraph as tg

rng = np.random.default_rng(1)


def np_log_softmax(z, axis=-1):
    m = z.max(axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis, keepdims=True))


COMPOSITES = [
    ("softmax", lambda x: tg.softmax(x, axis=0), lambda x: np.exp(np_log_softmax(x, 0))),
    ("log_softmax", tg.log_softmax, np_log_softmax),
    ("logsumexp", lambda x: tg.logsumexp(x, axis=1), lambda x: np.log(np.exp(x).sum(1))),
    ("logsumexp_keep", lambda x: tg.logsumexp(x, axis=-1, keepdims=True), lambda x: np.log(np.exp(x).sum(-1, keepdims=True))),
    ("gelu", tg.gelu, lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    ("gelu_exact", lambda x: tg.gelu(x, approximate=False),
     lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))),
    ("clip", lambda x: tg.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    ("mean_keep", lambda x: tg.mean(x, axis=(0, 1), keepdims=True), lambda x: x.mean((0, 1), keepdims=True)),
    ("layer_norm", tg.layer_norm, lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5)),
    ("mse", lambda x: tg.mse_loss(x, tg.zeros_like(x)), lambda x: (x ** 2).mean()),
]


@pytest.mark.parametrize("name,fn,ref", COMPOSITES, ids=[c[0] for c in COMPOSITES])
def test_composite(name, fn, ref):
    x = rng.standard_normal((4, 6))
    np.testing.assert_allclose(tg.trace(fn, [tg.f64[4, 6]])(x), ref(x), rtol=1e-12, atol=1e-12)


def test_exact_gelu_compiled_as_pytorch_default():
    """gelu(approximate=False) compiled in f32 matches the exact GELU (PyTorch's default) to f32
    rounding, and its gradient the exact Phi(x) + x phi(x); an unknown `approximate` is an error."""
    x = np.linspace(-6, 6, 97, dtype=np.float32)
    f = tg.compile_scalar(lambda x: tg.sum(tg.gelu(x, approximate=False)), [tg.f32[97]])
    x64 = x.astype(np.float64)
    phi = np.vectorize(math.erf)(x64 / np.sqrt(2))
    np.testing.assert_allclose(f.forward(x), np.sum(0.5 * x64 * (1 + phi)), rtol=1e-6)
    want = 0.5 * (1 + phi) + x64 * np.exp(-x64 ** 2 / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(f.value_and_grad(x)[1][0], want, rtol=1e-5, atol=1e-6)
    with pytest.raises(tg.TGraphError, match="approximate='erf'; use 'tanh'"):
        tg.trace(lambda x: tg.gelu(x, approximate="erf"), [tg.f32[3]])


def test_cross_entropy_labels_and_one_hot():
    z = rng.standard_normal((5, 7))
    labels = rng.integers(0, 7, 5)
    want = -np_log_softmax(z)[np.arange(5), labels].mean()
    g = tg.trace(tg.cross_entropy, [tg.f64[5, 7], tg.i64[5]])
    np.testing.assert_allclose(g(z, labels), want, rtol=1e-12)
    onehot = np.eye(7)[labels]
    g2 = tg.trace(tg.cross_entropy, [tg.f64[5, 7], tg.f64[5, 7]])
    np.testing.assert_allclose(g2(z, onehot), want, rtol=1e-12)
    g3 = tg.trace(lambda z, y: tg.cross_entropy(z, y, reduction="sum"), [tg.f64[5, 7], tg.i64[5]])
    np.testing.assert_allclose(g3(z, labels), want * 5, rtol=1e-12)


def test_cross_entropy_labels_out_of_range_are_nan_and_ignore_index_is_left_out():
    """As PyTorch: ignore_index (-100) adds nothing and is not counted by the mean; any other
    label outside [0, classes) is NaN (it used to add a silent 0), compiled and interpreted."""
    z = rng.standard_normal((4, 3))
    nll = -np_log_softmax(z)
    graph = tg.trace(tg.cross_entropy, [tg.f64[4, 3], tg.i32[4]])
    compiled = tg.compile_scalar(tg.cross_entropy, [tg.f64[4, 3], tg.i32[4]])
    for run in (graph, compiled.forward):
        np.testing.assert_allclose(run(z, np.array([0, -100, 2, 1], np.int32)), (nll[0, 0] + nll[2, 2] + nll[3, 1]) / 3)
        for bad in (3, -1, 4):
            assert np.isnan(run(z, np.array([0, bad, 2, 1], np.int32)))
        assert np.isnan(run(z, np.full(4, -100, np.int32)))  # a mean over nothing
    _, (grad, _) = compiled.value_and_grad(z, np.array([0, -100, 2, 1], np.int32))
    assert (grad[1] == 0).all() and np.isfinite(grad).all()
    per_example = tg.trace(lambda z, y: tg.cross_entropy(z, y, reduction="none", ignore_index=2), [tg.f64[4, 3], tg.i32[4]])
    np.testing.assert_allclose(per_example(z, np.array([0, 2, 1, 1], np.int32)), [nll[0, 0], 0, nll[2, 1], nll[3, 1]])
    with pytest.raises(tg.TGraphError, match="label 5 is out of range for 3 classes"):
        tg.trace(lambda z: tg.cross_entropy(z, np.array([0, 5, 1, 1])), [tg.f64[4, 3]])
    constant = tg.trace(lambda z: tg.cross_entropy(z, np.array([0, -100, 2, 1])), [tg.f64[4, 3]])
    np.testing.assert_allclose(constant(z), (nll[0, 0] + nll[2, 2] + nll[3, 1]) / 3)


def test_softmax_is_stable_for_large_logits():
    z = np.array([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(tg.trace(tg.softmax, [tg.f64[1, 3]])(z), [[0.5, 0.5, 0.0]])


def test_linear_batch_norm_and_embedding():
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal(5)
    np.testing.assert_allclose(tg.trace(tg.linear, [tg.f64[3, 4], tg.f64[5, 4], tg.f64[5]])(x, w, b), x @ w.T + b)
    img, mean, var = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    g = tg.trace(lambda x, m, v: tg.batch_norm(x, m, v, eps=1e-3), [tg.f64[2, 3, 4, 4], tg.f64[3], tg.f64[3]])
    want = (img - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-3)
    np.testing.assert_allclose(g(img, mean, var), want, rtol=1e-12)
    table, idx = rng.standard_normal((10, 3)), np.array([[1, 9], [0, 0]], np.int32)
    g = tg.trace(lambda t, i: tg.mean(tg.embedding(i, t)), [tg.f64[10, 3], tg.i32[2, 2]])
    np.testing.assert_allclose(g(table, idx), table[idx].mean())


def test_dropout_is_reproducible_and_scaled():
    g = tg.trace(lambda x, k: tg.dropout(x, 0.25, k), [tg.f32[10_000], tg.i32[()]])
    x = np.ones(10_000, np.float32)
    a, b = g(x, np.int32(3)), g(x, np.int32(3))
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((a == 0).mean() - 0.25) < 0.02
    assert not np.array_equal(a, g(x, np.int32(4)))


def test_var_interface():
    def f(x):
        assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype is tg.f32
        y = (2 * x - 1) / 3 + x ** 2
        return -abs(y.T.sum(axis=0)) + y.max() - y.min() + y.mean()

    x = rng.standard_normal((2, 3)).astype(np.float32)
    y = (2 * x - 1) / 3 + x ** 2
    np.testing.assert_allclose(tg.trace(f, [tg.f32[2, 3]])(x), -np.abs(y.T.sum(0)) + y.max() - y.min() + y.mean(),
                               rtol=1e-5)


def test_multiple_outputs_and_example_arrays():
    g = tg.trace(lambda x: (x + 1, x.sum()), [np.zeros((2, 2), np.float64)])
    a, s = g(np.ones((2, 2)))
    np.testing.assert_array_equal(a, 2 * np.ones((2, 2)))
    assert s == 4.0 and len(g.output_specs) == 2


def test_graph_ir_and_print(capsys):
    g = tg.trace(lambda x: tg.tanh(x), [tg.f32[3]], name="act")
    print(g)
    out = capsys.readouterr().out
    assert "func.func @act(%arg0: tensor<3xf32>) -> tensor<3xf32>" in out and '"tg.tanh"' in out
    assert g.ir() == str(g) and "loc(" in g.ir(debug_info=True)
