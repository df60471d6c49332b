"""vmap (the tg-batch pass) over the op table: every op's batching rule against a Python loop over
the lanes in the reference interpreter, with every operand batched and with each one alone
(at a negative axis); derivatives of batched functions and batched derivatives against a loop
of per-lane derivatives; control flow; errors; compiled code."""

import numpy as np
import pytest

import tgraph as tg
from op_table import CASES
from tgraph.dialect import OPS

LANES = 3


def test_every_op_has_a_batching_rule():
    missing = [name for name, opdef in OPS.items() if opdef.batch is None]
    assert not missing, f"ops without a batching rule (add one beside the op's definition): {missing}"


def _tolerance(specs):
    return 1e-10 if all(s.dtype in ("f64", "i1", "i32", "i64") for s in specs) else 2e-5


def _lane_inputs(case, seed):
    rng = np.random.default_rng(seed)
    return [case.make_inputs(rng) for _ in range(LANES)]


def _stacked(lanes, k, axis):
    return np.stack([lane[k] for lane in lanes], axis=axis)


def _per_lane(graph, lanes):
    outs = [graph(*lane) for lane in lanes]
    return np.stack(outs) if not isinstance(outs[0], tuple) else [np.stack(o) for o in zip(*outs)]


def _variants(case):
    """(name, in_axes): every operand batched at 0, and each alone at axis -1."""
    n = len(case.specs)
    if n == 0:
        return []
    variants = [("all", (0,) * n)]
    if n > 1:
        variants += [(f"only{k}", tuple(-1 if j == k else None for j in range(n))) for k in range(n)]
    return variants


BATCH_CASES = [(c, name, axes) for c in CASES for name, axes in _variants(c)]


@pytest.mark.parametrize("case,variant,in_axes", BATCH_CASES, ids=[f"{c.id}-{v}" for c, v, _ in BATCH_CASES])
def test_batching_rule_matches_a_loop(case, variant, in_axes):
    graph = tg.trace(case.fn, case.specs)
    batched = tg.vmap(graph, in_axes=in_axes, axis_size=LANES)
    lanes = _lane_inputs(case, 7)
    first = lanes[0]
    args = []
    for k, axis in enumerate(in_axes):
        if axis is None:  # shared: every lane sees lane 0's value
            for lane in lanes:
                lane[k] = first[k]
            args.append(first[k])
        else:
            args.append(_stacked(lanes, k, axis))
    got = batched(*args)
    expected = _per_lane(graph, lanes)
    tol = _tolerance(case.specs)
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(expected, np.float64), rtol=tol, atol=tol)


def _scalarized(case):
    """sum(sin(op(x...))): a scalar with a derivative in every float output element."""
    return lambda *xs: tg.sum(tg.sin(case.fn(*xs)))


def _float_result(case):
    return all(s.dtype == "f64" for s in tg.trace(case.fn, case.specs).output_specs)


GRAD_CASES = [c for c in CASES if c.specs and c.specs[0].dtype == "f64" and OPS[c.op].differentiable
              and _float_result(c)]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_batched_derivatives_match_a_loop(case):
    wrt = tuple(i for i, s in enumerate(case.specs) if s.dtype == "f64"
                and (case.differentiable is None or i in case.differentiable))
    scalar = _scalarized(case)
    lanes = _lane_inputs(case, 11)
    stacked = [_stacked(lanes, k, 0) for k in range(len(case.specs))]
    expected = [tg.grad(scalar, wrt=wrt)(*lane) for lane in lanes]
    expected = [np.stack([e[k] for e in expected]) for k in range(len(wrt))]
    # vmap of grad, and grad of the sum over lanes of vmap (lanes are independent): the same
    vmapped_grad = tg.vmap(tg.grad(scalar, wrt=wrt))
    grad_of_vmap = tg.grad(lambda *xs: tg.sum(tg.vmap(scalar)(*xs)), wrt=wrt)
    for got in (vmapped_grad(*stacked), grad_of_vmap(*stacked)):
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- the API
def _loss(w, x, y):
    return tg.sum((tg.tanh(x @ w["w"] + w["b"]) - y) ** 2)


def _params(rng):
    return {"w": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}


def test_per_example_gradients_of_pytree_parameters():
    rng = np.random.default_rng(0)
    params, xs, ys = _params(rng), rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    per_example = tg.vmap(tg.grad(_loss), in_axes=(None, 0, 0))
    got = per_example(params, xs, ys)
    for i in range(5):
        lane = tg.grad(_loss)(params, xs[i], ys[i])
        for key in ("w", "b"):
            np.testing.assert_allclose(got[key][i], lane[key], rtol=1e-12, atol=1e-12)
    # the mean of the per-example gradients is the batch gradient
    batch = tg.grad(lambda p, x, y: tg.sum(tg.vmap(_loss, in_axes=(None, 0, 0))(p, x, y)))(params, xs, ys)
    np.testing.assert_allclose(got["w"].sum(0), batch["w"], rtol=1e-12)


def test_nested_vmap_and_out_axes():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    # pairwise dot products: vmap over a's rows of vmap over b's rows
    pairwise = tg.vmap(tg.vmap(lambda u, v: tg.sum(u * v), in_axes=(None, 0)), in_axes=(0, None))
    np.testing.assert_allclose(pairwise(a, b), a @ b.T, rtol=1e-12)
    transposed = tg.vmap(tg.vmap(lambda u, v: tg.sum(u * v), in_axes=(None, 0)), in_axes=(0, None), out_axes=1)
    np.testing.assert_allclose(transposed(a, b), (a @ b.T).T, rtol=1e-12)
    # out_axes per result, a pytree; an unbatched result broadcast
    both = tg.vmap(lambda u, v: {"s": tg.sum(u), "t": u * 2.0, "v": v}, in_axes=(0, None), out_axes={"s": 0, "t": 1, "v": 0})
    out = both(a, b[0])
    np.testing.assert_allclose(out["s"], a.sum(1))
    np.testing.assert_allclose(out["t"], (a * 2).T)
    np.testing.assert_allclose(out["v"], np.broadcast_to(b[0], (4, 3)))


def test_in_axes_pytrees_negative_axes_and_axis_size():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 6))
    np.testing.assert_allclose(tg.vmap(lambda r: tg.sum(r * r), in_axes=-1)(x), (x * x).sum(0))
    tree = {"a": rng.standard_normal((2, 6)), "b": rng.standard_normal(2)}
    fn = tg.vmap(lambda t: t["a"] * t["b"], in_axes=({"a": 1, "b": None},), out_axes=0)
    np.testing.assert_allclose(fn(tree), (tree["a"] * tree["b"][:, None]).T)
    const = tg.vmap(lambda v: v + 1.0, in_axes=None, axis_size=4)(np.ones(2))
    assert const.shape == (4, 2)


def test_vmap_of_jvp_and_grad_of_grad():
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((4, 3))
    f = lambda x: tg.sum(tg.sin(x) * x)  # noqa: E731
    hvp_diag = tg.vmap(tg.jvp(tg.grad(f), wrt=0))(xs, np.ones_like(xs))
    value, tangent = hvp_diag
    np.testing.assert_allclose(value, np.sin(xs) + xs * np.cos(xs), rtol=1e-12)
    np.testing.assert_allclose(tangent, 2 * np.cos(xs) - xs * np.sin(xs), rtol=1e-12)


# ----------------------------------------------------------------------------- control flow
def test_vmap_of_scan_and_fori_loop():
    rng = np.random.default_rng(4)
    xs, h0 = rng.standard_normal((3, 5, 2)), rng.standard_normal((3, 2))

    def run(h, seq):
        def step(carry, x):
            carry = tg.tanh(carry * 0.5 + x)
            return carry, tg.sum(carry)
        return tg.scan(step, h, seq)

    hs, ys = tg.vmap(run)(h0, xs)
    for i in range(3):
        h, y = tg.jit(run)(h0[i], xs[i])
        np.testing.assert_allclose(hs[i], h, rtol=1e-12)
        np.testing.assert_allclose(ys[i], y, rtol=1e-12)
    powers = tg.vmap(lambda v: tg.fori_loop(0, 3, lambda i, c: c * v, tg.ones_like(v)))(xs[:, 0])
    np.testing.assert_allclose(powers, xs[:, 0] ** 3, rtol=1e-12)


def test_vmap_of_cond_with_a_batched_predicate_selects():
    x = np.array([-2.0, 3.0, -0.5, 4.0])
    fn = tg.vmap(lambda v: tg.cond(v > 0.0, lambda u: tg.log(u), lambda u: u * u, v))
    np.testing.assert_allclose(fn(x), np.where(x > 0, np.log(np.abs(x)), x * x))
    shared = tg.vmap(lambda v, p: tg.cond(p, lambda u: u + 1.0, lambda u: u - 1.0, v), in_axes=(0, None))
    np.testing.assert_allclose(shared(x, np.array(True)), x + 1)
    switch = tg.vmap(lambda i, v: tg.switch(i, [lambda u: u, lambda u: u * 2.0, lambda u: -u], v))
    np.testing.assert_allclose(switch(np.array([0, 1, 2, 1], np.int32), x), [-2.0, 6.0, 0.5, 8.0])


def test_vmap_of_while_loop_masks_finished_lanes():
    # Collatz-like: halve until below 1, counting steps; lanes finish at different times
    def steps(v):
        return tg.while_loop(lambda c: c[0] >= 1.0, lambda c: (c[0] * 0.5, c[1] + 1.0), (v, tg.zeros_like(v)))

    x = np.array([0.5, 3.0, 17.0, 1.0])
    final, count = tg.vmap(steps)(x)
    expected = [0, 2, 5, 1]
    np.testing.assert_allclose(count, expected)
    np.testing.assert_allclose(final, x / 2.0 ** np.array(expected))


# ----------------------------------------------------------------------------- errors
def test_vmap_errors_name_the_problem():
    with pytest.raises(tg.TGraphError, match=r"disagree on the batch size \(argument 0 has 3, argument 1 has 4"):
        tg.vmap(lambda a, b: a + b)(np.ones(3), np.ones(4))
    with pytest.raises(tg.TGraphError, match="in_axes has 1 entries but the function takes 2 arguments"):
        tg.vmap(lambda a, b: a + b, in_axes=(0,))(np.ones(3), np.ones(3))
    with pytest.raises(tg.TGraphError, match=r"argument 0 has axis 2, out of range for its batched rank 1"):
        tg.vmap(lambda a: a, in_axes=2)(np.ones(3))
    with pytest.raises(tg.TGraphError, match="no argument is batched"):
        tg.vmap(lambda a: a, in_axes=None)(np.ones(3))
    with pytest.raises(tg.TGraphError, match="depends on the batch, but its out-axes entry is -1"):
        tg.vmap(lambda a: a * 2.0, out_axes=None)(np.ones(3))
    graph = tg.trace(lambda a: a, [tg.f32[2]])
    with pytest.raises(tg.TGraphError, match="needs axis_size="):
        tg.vmap(graph)


# ----------------------------------------------------------------------------- compiled
def test_per_example_gradients_compiled_inside_jit():
    rng = np.random.default_rng(5)
    params, xs, ys = _params(rng), rng.standard_normal((6, 4)), rng.standard_normal((6, 3))

    @tg.jit
    def per_example(p, x, y):
        return tg.vmap(tg.grad(_loss), in_axes=(None, 0, 0))(p, x, y)

    got = per_example(params, xs, ys)
    reference = tg.vmap(tg.grad(_loss), in_axes=(None, 0, 0)).graph(params, xs, ys)(params, xs, ys)
    for key in ("w", "b"):
        np.testing.assert_allclose(got[key], reference[key], rtol=1e-12, atol=1e-12)
    assert "tg.dot_general" in per_example.compiled(params, xs, ys).ir("tg")


@pytest.mark.parametrize("op", ["conv2d", "max_pool2d", "gather", "scatter_add", "set_row", "dot_general"])
def test_batched_ops_compile(op):
    case = next(c for c in CASES if c.op == op and any(s.dtype == "f64" for s in c.specs))
    graph = tg.vmap(tg.trace(case.fn, case.specs), in_axes=0, axis_size=LANES)
    lanes = _lane_inputs(case, 3)
    args = [_stacked(lanes, k, 0) for k in range(len(case.specs))]
    compiled = tg.compile_out(graph)
    np.testing.assert_allclose(compiled.forward(*args), graph(*args), rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- closures
def test_transforms_capture_the_enclosing_traces_vars():
    rng = np.random.default_rng(6)
    params, xs, ys = _params(rng), rng.standard_normal((6, 4)), rng.standard_normal((6, 3))

    @tg.jit
    def train_step(p, x, y):  # x and y are closed over by the function value_and_grad traces
        value, g = tg.value_and_grad(lambda q: tg.mean(tg.vmap(_loss, in_axes=(None, 0, 0))(q, x, y)))(p)
        return tg.tree_map(lambda a, d: a - 0.1 * d, p, g), value

    new, value = train_step(params, xs, ys)
    expected = tg.grad(lambda p: tg.mean(tg.vmap(_loss, in_axes=(None, 0, 0))(p, xs, ys)))(params)
    for key in ("w", "b"):
        np.testing.assert_allclose(new[key], params[key] - 0.1 * expected[key], rtol=1e-12)
    assert value == pytest.approx(np.mean([_loss_np(params, xs[i], ys[i]) for i in range(6)]), rel=1e-12)
    # two levels down: the innermost function uses the outermost trace's Var a;
    # d/db [grad_c sum(a c^2)](b x) . x = d/db 2a sum(b x^2) = 2a x^2
    outer = tg.jit(lambda a, x: tg.grad(lambda b: tg.grad(lambda c: tg.sum(c * c * a))(b * x) @ x)(x))
    a, x = np.array(3.0), rng.standard_normal(4)
    np.testing.assert_allclose(outer(a, x), 2 * a * x ** 2, rtol=1e-12)


def _loss_np(p, x, y):
    return np.sum((np.tanh(x @ p["w"] + p["b"]) - y) ** 2)


def test_a_var_of_a_finished_trace_is_an_error():
    kept = []
    tg.trace(lambda x: kept.append(x) or x, [tg.f32[2]])
    with pytest.raises(tg.TGraphError, match="cannot be combined"):
        tg.trace(lambda y: y + kept[0], [tg.f32[2]])


@pytest.mark.parametrize("lhs_shape, rhs_shape, contracting, batch", [
    ((4, 1, 3), (1, 4, 5), ((1,), (0,)), ((0,), (1,))),     # batched outer product, rhs batch not first
    ((3, 1), (1, 5), ((1,), (0,)), ((), ())),               # outer product as a contraction over 1
    ((2, 6), (2, 6), ((), ()), ((1, 0), (1, 0))),           # batch dims in another order, nothing contracted
    ((5, 1, 2, 1), (2, 1, 1, 3), ((1, 3), (2, 1)), ((2,), (0,))),  # two unit contractions, interleaved
    ((3, 4), (4, 2), ((1,), (0,)), ((), ())),               # a real contraction: left as it is
])
def test_contractions_over_unit_dimensions_become_broadcast_products(lhs_shape, rhs_shape, contracting, batch):
    """tg-simplify turns dot_generals that contract only dimensions of size 1 (the outer products
    of per-example gradients) into products of broadcasts, with the same values."""
    graph = tg.trace(lambda a, b: tg.dot_general(a, b, contracting, batch), [tg.f64[lhs_shape], tg.f64[rhs_shape]])
    simplified = tg.autodiff.run_passes(graph, [], graph.name)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(lhs_shape), rng.standard_normal(rhs_shape)
    np.testing.assert_allclose(simplified(a, b), graph(a, b), rtol=1e-15)
    unit = all(lhs_shape[d] == 1 for d in contracting[0])
    assert ('"tg.dot_general"' in simplified.ir()) != unit
    np.testing.assert_allclose(tg.compile_out(simplified).forward(a, b), graph(a, b), rtol=1e-14)
