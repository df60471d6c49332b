"""Numerical derivative checks through the reference interpreter, as jax's `check_grads`:
the generated JVP against central differences along random directions, the generated VJP by the
dot product <vjp(ct), t> = <ct, finite-difference jvp(t)>, and order 2 by checking the generated
function itself the same way."""

import numpy as np

import tgraph as tg

FLOATS = ("f16", "bf16", "f32", "f64")


def as_f64(spec):
    return tg.TensorSpec(spec.shape, "f64") if spec.dtype in FLOATS else spec


def f64_graph(fn, specs):
    return tg.trace(fn, [as_f64(s) for s in specs])


def float_inputs(graph):
    return [i for i, s in enumerate(graph.input_specs) if s.dtype == "f64"]


def float_outputs(graph):
    return [i for i, s in enumerate(graph.output_specs) if s.dtype in FLOATS]


def outputs(graph, args):
    out = graph(*args)
    return list(out) if isinstance(out, tuple) else [out]


def directional_difference(graph, args, wrt, tangents, eps):
    """Central differences of every output along the tangents of the wrt inputs."""

    def shifted(sign):
        moved = list(args)
        for i, t in zip(wrt, tangents):
            moved[i] = args[i] + sign * eps * t
        return outputs(graph, moved)

    return [(p - m) / (2 * eps) for p, m in zip(shifted(1), shifted(-1))]


def check_jvp(graph, args, rng, eps=1e-6, tol=1e-5):
    """Compare graph's generated JVP with central differences along a random direction;
    returns the JVP graph and the arguments it was checked at."""
    wrt, outs = float_inputs(graph), float_outputs(graph)
    tangents = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    jvp = tg.jvp(graph, wrt=wrt)
    results = outputs(jvp, list(args) + tangents)
    n = len(graph.output_specs)
    primal, dys = results[:n], results[n:]
    expected = outputs(graph, args)
    fd = directional_difference(graph, args, wrt, tangents, eps)
    for k, i in enumerate(outs):
        np.testing.assert_allclose(primal[i], expected[i], rtol=1e-12, atol=1e-12)
        if graph.output_specs[i].dtype == "f64":  # narrower outputs are too coarse for finite differences
            np.testing.assert_allclose(dys[k], fd[i], rtol=tol, atol=tol, err_msg=f"jvp of output {i}")
    return jvp, list(args) + tangents


def check_vjp(graph, args, rng, eps=1e-6, tol=1e-5, directions=2):
    """Check graph's generated VJP by the dot product with finite differences along random
    directions; returns the VJP graph and the arguments (inputs, then seeds) it was checked at."""
    wrt, outs = float_inputs(graph), float_outputs(graph)
    specs = graph.output_specs
    # Outputs narrower than f64 (a cast to f16) are too coarse for finite differences: seed them with 0.
    seeds = [rng.standard_normal(specs[i].shape) * (specs[i].dtype == "f64") for i in outs]
    vjp = tg.vjp(graph, wrt=wrt)
    grads = outputs(vjp, list(args) + seeds)
    assert [g.shape for g in grads] == [graph.input_specs[i].shape for i in wrt]
    for _ in range(directions):
        tangents = [rng.standard_normal(np.shape(args[i])) for i in wrt]
        fd = directional_difference(graph, args, wrt, tangents, eps)
        lhs = sum(float(np.vdot(g, t)) for g, t in zip(grads, tangents))
        rhs = sum(float(np.vdot(s, fd[i])) for s, i in zip(seeds, outs))
        np.testing.assert_allclose(lhs, rhs, rtol=tol, atol=tol, err_msg="<vjp(ct), t> != <ct, jvp(t)>")
    return vjp, list(args) + seeds


def check_grads(graph, args, order=2, modes=("fwd", "rev"), rng=None, tol=1e-5):
    """Order 1, then (on the generated function) order 2, ... in each mode."""
    rng = rng or np.random.default_rng(0)
    for mode in modes:
        check = check_jvp if mode == "fwd" else check_vjp
        g, a = graph, list(args)
        for k in range(order):
            g, a = check(g, a, rng, tol=tol * 10 ** k)


def f64_args(graph, arrays):
    return [np.asarray(a, dtype=np.float64) if s.dtype == "f64" else a for a, s in zip(arrays, graph.input_specs)]
