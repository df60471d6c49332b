"""The models (MLP, CNN, layer norm, attention, embedding, dropout) differentiated in both modes
at orders 1 and 2 against finite differences; the HVP and Hessian of the MLP loss against
finite differences of its gradient."""

import numpy as np
import pytest

import tgraph as tg
from gradcheck import check_grads, f64_args, f64_graph
from models import MODELS


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_derivatives(model, mode):
    graph = f64_graph(model.fn, model.specs)
    rng = np.random.default_rng(3)
    check_grads(graph, f64_args(graph, model.make_inputs(rng)), order=2, modes=[mode], rng=rng)


def test_dropout_gradient_follows_the_fixed_mask():
    graph = tg.trace(lambda x: tg.sum(tg.dropout(x, 0.5, key=7) ** 2), [tg.f64[64]])
    x = np.random.default_rng(0).standard_normal(64)
    dx = tg.grad(graph)(x)
    np.testing.assert_array_equal(dx, tg.grad(graph)(x))  # the same key, the same mask
    dropped = tg.trace(lambda x: tg.dropout(x, 0.5, key=7), [tg.f64[64]])(x) == 0
    assert 10 < dropped.sum() < 54
    np.testing.assert_array_equal(dx[dropped], 0.0)
    np.testing.assert_allclose(dx[~dropped], 2 * x[~dropped] * 4)  # (2x)^2 summed: d/dx = 8x where kept


@pytest.fixture(scope="module")
def mlp_loss():
    model = MODELS[0]
    graph = f64_graph(model.fn, model.specs)
    return graph, f64_args(graph, model.make_inputs(np.random.default_rng(4)))


def test_mlp_hvp_matches_finite_differences_of_the_gradient(mlp_loss):
    graph, args = mlp_loss
    wrt = [0, 1, 2, 3, 4]
    rng = np.random.default_rng(5)
    v = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    hv = tg.hvp(graph, wrt=wrt)(*args, *v)
    grad = tg.grad(graph, wrt=wrt)
    eps = 1e-6
    plus = grad(*[a + eps * v[i] if i in wrt else a for i, a in enumerate(args)])
    minus = grad(*[a - eps * v[i] if i in wrt else a for i, a in enumerate(args)])
    for h, p, m in zip(hv, plus, minus):
        np.testing.assert_allclose(h, (p - m) / (2 * eps), rtol=1e-5, atol=1e-6)


def test_mlp_hessian_is_symmetric_and_matches_hvp(mlp_loss):
    graph, args = mlp_loss
    hessian = tg.hessian(graph, wrt=[1, 2])(*args)  # blocks H[w1][w1], H[w1][b1], H[b1][w1], H[b1][b1]
    (hww, hwb, hbw, hbb) = hessian
    assert hww.shape == (6, 5, 6, 5) and hwb.shape == (6, 5, 5) and hbw.shape == (5, 6, 5) and hbb.shape == (5, 5)
    full = np.block([[hww.reshape(30, 30), hwb.reshape(30, 5)], [hbw.reshape(5, 30), hbb]])
    np.testing.assert_allclose(full, full.T, atol=1e-12)
    rng = np.random.default_rng(6)
    v = rng.standard_normal(35)
    hv = tg.hvp(graph, wrt=[1, 2])(*args, v[:30].reshape(6, 5), v[30:])
    np.testing.assert_allclose(np.concatenate([hv[0].ravel(), hv[1]]), full @ v, rtol=1e-10, atol=1e-12)
