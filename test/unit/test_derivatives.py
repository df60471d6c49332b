"""Both AD passes over the one op table: JVP and VJP against central finite differences in
float64 through the reference interpreter, at order 1 and order 2 (the generated function
differentiated again), as jax's check_grads(f, args, order=2, modes=["fwd", "rev"])."""

import numpy as np
import pytest

import tgraph as tg
from gradcheck import FLOATS, check_grads, f64_args, f64_graph
from op_table import CASES
from tgraph.dialect import OPS

# stop_gradient is the identity numerically but a constant to differentiation: checked on its own below.
DIFFERENTIABLE = [c for c in CASES if c.op != "stop_gradient" and any(s.dtype in FLOATS for s in c.specs)
                  and any(s.dtype in FLOATS for s in f64_graph(c.fn, c.specs).output_specs)]


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_order_1_and_2(case, mode):
    graph = f64_graph(case.fn, case.specs)
    rng = np.random.default_rng(2)
    check_grads(graph, f64_args(graph, case.make_inputs(rng)), order=2, modes=[mode], rng=rng)


def test_every_op_has_both_rules():
    assert [n for n, op in OPS.items() if op.jvp is None or op.vjp is None] == []


def test_symbolic_zeros_and_wrt():
    g = tg.trace(lambda x, y: tg.exp(x) * 2.0 + y, [tg.f64[3], tg.f64[3]])
    j = tg.jvp(g, wrt=[1])
    text = j.ir()
    body = text[text.index("@main_jvp"):]
    assert '"tg.exp"' in body and body.count('"tg.mul"') == 1  # no product with x's (zero) tangent
    y, dy = j(np.ones(3), np.ones(3), np.full(3, 2.0))
    np.testing.assert_allclose(dy, 2.0)
    v = tg.vjp(g, wrt=[1])
    body = v.ir()[v.ir().index("@main_vjp"):v.ir().index("@main_value_and_grad")]
    assert '"tg.exp"' not in body and '"tg.mul"' not in body  # dy = seed: nothing to compute
    np.testing.assert_allclose(v(np.ones(3), np.ones(3), np.full(3, 3.0)), 3.0)


@pytest.mark.parametrize("differentiate", [tg.jvp, tg.vjp, tg.grad])
def test_errors(differentiate):
    g = tg.trace(lambda x, n: tg.sum(x * n.astype(tg.f64)), [tg.f64[3], tg.i32[3]])
    with pytest.raises(tg.TGraphError, match=r"cannot differentiate @main with respect to argument 1 of type "
                                             r"tensor<3xi32>: only floating-point arguments have derivatives"):
        differentiate(g, wrt=[1])
    with pytest.raises(tg.TGraphError, match=r"wrt=5 is out of range: @main has 2 arguments"):
        differentiate(g, wrt=[5])
    h = tg.trace(lambda x: x > 0, [tg.f64[3]])
    message = "grad needs a function with one scalar floating-point output" if differentiate is tg.grad else \
        "@main has no floating-point result to differentiate"
    with pytest.raises(tg.TGraphError, match=message):
        differentiate(h)


def test_stop_gradient_blocks():
    g = tg.trace(lambda x: tg.stop_gradient(x) * x, [tg.f64[3]])
    x, dx = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])
    _, dy = tg.jvp(g)(x, dx)
    np.testing.assert_allclose(dy, x * dx)  # only the unblocked factor contributes
    np.testing.assert_allclose(tg.vjp(g)(x, dx), x * dx)
    _, dz = tg.jvp(tg.trace(tg.stop_gradient, [tg.f64[3]]))(x, dx)
    np.testing.assert_array_equal(dz, 0.0)
    np.testing.assert_array_equal(tg.vjp(tg.trace(tg.stop_gradient, [tg.f64[3]]))(x, dx), 0.0)


CONVENTIONS = [  # (function, input, derivative of sum(f(x)) at x, as documented in the op reference)
    (tg.relu, [0.0, -1.0, 2.0], [0.0, 0.0, 1.0]),
    (tg.abs, [0.0, -1.0, 2.0], [0.0, -1.0, 1.0]),
    (lambda x: tg.maximum(x, tg.zeros_like(x)), [0.0, -1.0, 2.0], [0.5, 0.0, 1.0]),
    (lambda x: tg.minimum(x, tg.zeros_like(x)), [0.0, -1.0, 2.0], [0.5, 1.0, 0.0]),
    (lambda x: tg.max(x), [3.0, 1.0, 3.0], [0.5, 0.0, 0.5]),
    (lambda x: tg.max_pool2d(x.reshape(1, 1, 1, 3), (1, 3)), [3.0, 3.0, 3.0], [1 / 3, 1 / 3, 1 / 3]),
]


@pytest.mark.parametrize("fn,x,expected", CONVENTIONS, ids=["relu", "abs", "maximum", "minimum", "reduce_max", "max_pool"])
def test_kink_and_tie_conventions(fn, x, expected):
    graph = tg.trace(lambda v: tg.sum(fn(v)), [tg.f64[3]])
    np.testing.assert_allclose(tg.grad(graph)(np.array(x)), expected)
    jacobian_row_sums = [tg.jvp(graph)(np.array(x), np.eye(3)[k])[1] for k in range(3)]
    np.testing.assert_allclose(jacobian_row_sums, expected)
