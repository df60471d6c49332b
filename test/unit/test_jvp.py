"""Forward mode over the one op table: the JVP that tg-generate-tangent emits agrees with central
finite differences through the reference interpreter, at order 1 and (differentiating the
generated function again) order 2, in float64."""

import numpy as np
import pytest

import tgraph as tg
from op_table import CASES


def as_f64(spec):
    return tg.TensorSpec(spec.shape, "f64") if spec.dtype in ("f16", "bf16", "f32") else spec


def f64_graph(case):
    return tg.trace(case.fn, [as_f64(s) for s in case.specs])


def float_inputs(graph):
    return [i for i, s in enumerate(graph.input_specs) if s.dtype == "f64"]


def outputs(graph, args):
    out = graph(*args)
    return list(out) if isinstance(out, tuple) else [out]


def check_jvp(graph, args, rng, eps=1e-6, tol=1e-5):
    """Compare graph's generated JVP with central differences along a random direction."""
    wrt = float_inputs(graph)
    tangents = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    jvp = tg.jvp(graph)
    results = outputs(jvp, list(args) + tangents)
    float_outs = [i for i, s in enumerate(graph.output_specs) if s.dtype == "f64"]
    primal, dys = results[:len(graph.output_specs)], results[len(graph.output_specs):]

    def shifted(sign):
        moved = list(args)
        for i, t in zip(wrt, tangents):
            moved[i] = args[i] + sign * eps * t
        return outputs(graph, moved)

    plus, minus = shifted(1), shifted(-1)
    for k, i in enumerate(float_outs):
        np.testing.assert_allclose(primal[i], outputs(graph, args)[i], rtol=1e-12, atol=1e-12)
        fd = (plus[i] - minus[i]) / (2 * eps)
        np.testing.assert_allclose(dys[k], fd, rtol=tol, atol=tol, err_msg=f"output {i}")
    return jvp, list(args) + tangents


# stop_gradient is the identity numerically but a constant to differentiation: checked on its own below.
DIFFERENTIABLE = [c for c in CASES if c.op != "stop_gradient" and any(s.dtype in ("f16", "bf16", "f32", "f64") for s in c.specs)
                  and any(s.dtype in ("f16", "bf16", "f32", "f64") for s in f64_graph(c).output_specs)]


@pytest.mark.parametrize("case", DIFFERENTIABLE, ids=lambda c: c.id)
def test_jvp_order_1_and_2(case):
    graph = f64_graph(case)
    rng = np.random.default_rng(2)
    args = [np.asarray(a, dtype=np.float64) if s.dtype == "f64" else a
            for a, s in zip(case.make_inputs(rng), graph.input_specs)]
    jvp, jvp_args = check_jvp(graph, args, rng)
    check_jvp(jvp, jvp_args, rng, tol=1e-4)


def test_every_op_has_a_jvp_rule():
    from tgraph.dialect import OPS

    assert [n for n, op in OPS.items() if op.jvp is None] == []


def test_symbolic_zeros_and_wrt():
    g = tg.trace(lambda x, y: tg.exp(x) * 2.0 + y, [tg.f64[3], tg.f64[3]])
    j = tg.jvp(g, wrt=[1])
    text = j.ir()
    body = text[text.index("@main_jvp"):]
    assert '"tg.exp"' in body and body.count('"tg.mul"') == 1  # no product with x's (zero) tangent
    y, dy = j(np.ones(3), np.ones(3), np.full(3, 2.0))
    np.testing.assert_allclose(dy, 2.0)


def test_jvp_errors():
    g = tg.trace(lambda x, n: x * n.astype(tg.f64), [tg.f64[3], tg.i32[3]])
    with pytest.raises(tg.TGraphError, match=r"cannot differentiate @main with respect to argument 1 of type "
                                             r"tensor<3xi32>: only floating-point arguments have derivatives"):
        tg.jvp(g, wrt=[1])
    h = tg.trace(lambda x: x > 0, [tg.f64[3]])
    with pytest.raises(tg.TGraphError, match=r"@main has no floating-point result to differentiate"):
        tg.jvp(h)


def test_stop_gradient_blocks():
    g = tg.trace(lambda x: tg.stop_gradient(x) * x, [tg.f64[3]])
    x, dx = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])
    _, dy = tg.jvp(g)(x, dx)
    np.testing.assert_allclose(dy, x * dx)  # only the unblocked factor contributes
    _, dz = tg.jvp(tg.trace(tg.stop_gradient, [tg.f64[3]]))(x, dx)
    np.testing.assert_array_equal(dz, 0.0)
