"""Control flow (scan, fori_loop, while_loop, cond, switch) over one table of cases, as the op
table does for ops: values against loops written in numpy; both AD passes at orders 1 and 2
against finite differences (f64, interpreter); compiled code against the interpreter; then the
models, checkpointing, bufferization in place, compile time independent of the length, and misuse."""

import pathlib
import re
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import tgraph as tg
from gradcheck import check_grads


@dataclass
class Flow:
    name: str
    fn: Callable
    specs: list
    ref: Callable  # the same computation, written in numpy
    inputs: Callable = None  # rng -> arrays; default standard normal

    def make_inputs(self, rng):
        if self.inputs:
            return [np.asarray(a, dtype=s.np_dtype) for a, s in zip(self.inputs(rng), self.specs)]
        return [rng.standard_normal(s.shape) for s in self.specs]


FLOWS = []


def flow(*args, **kwargs):
    FLOWS.append(Flow(*args, **kwargs))


# ----------------------------------------------------------------------------- scan
def rnn(checkpoint=None, reverse=False):
    def fn(h0, w, xs):
        def step(h, x):
            h = tg.tanh(h @ w + x)
            return h, tg.sum(h, axis=1)
        h, ys = tg.scan(step, h0, xs, checkpoint=checkpoint, reverse=reverse)
        return tg.sum(h * h) + tg.sum(ys * ys)
    return fn


def np_rnn(h, w, xs, reverse=False):
    ys = [None] * len(xs)
    for t in (reversed(range(len(xs))) if reverse else range(len(xs))):
        h = np.tanh(h @ w + xs[t])
        ys[t] = h.sum(1)
    return (h * h).sum() + (np.array(ys) ** 2).sum()


RNN_SPECS = [tg.f64[2, 3], tg.f64[3, 3], tg.f64[7, 2, 3]]
flow("scan_rnn", rnn(), RNN_SPECS, np_rnn)
flow("scan_reverse", rnn(reverse=True), RNN_SPECS, lambda h, w, xs: np_rnn(h, w, xs, reverse=True))
flow("scan_checkpoint_3", rnn(checkpoint=3), RNN_SPECS, np_rnn)  # 7 steps: segments of 3, 3, 1


def gru(h0, wz, uz, wr, ur, wn, un, xs):
    def step(h, x):
        z = tg.sigmoid(x @ wz + h @ uz)
        r = tg.sigmoid(x @ wr + h @ ur)
        n = tg.tanh(x @ wn + (r * h) @ un)
        h = (1.0 - z) * n + z * h
        return h, h[:, 0]
    h, firsts = tg.scan(step, h0, xs)
    return tg.sum(h * h) + tg.sum(tg.sin(firsts))


def np_gru(h, wz, uz, wr, ur, wn, un, xs):
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    firsts = []
    for x in xs:
        z, r = sigmoid(x @ wz + h @ uz), sigmoid(x @ wr + h @ ur)
        h = (1 - z) * np.tanh(x @ wn + (r * h) @ un) + z * h
        firsts.append(h[:, 0])
    return (h * h).sum() + np.sin(firsts).sum()


GRU_SPECS = [tg.f64[2, 3]] + [tg.f64[4, 3], tg.f64[3, 3]] * 3 + [tg.f64[5, 2, 4]]
flow("scan_gru", gru, GRU_SPECS, np_gru)


def pytree_scan(a, xs, bs):
    """Carries and xs as pytrees of different shapes and dtypes; an integer carry; a closure (a)."""
    def step(carry, x):
        h, count = carry["h"], carry["n"]
        h = h * x["b"] + tg.sin(x["a"] * a) + tg.cast(count, "f64")
        return {"h": h, "n": count + 1}, (h.sum(), tg.exp(-h))
    carry, (sums, exps) = tg.scan(step, {"h": a * 0.5, "n": tg.zeros((), "i32", like=a)}, {"a": xs, "b": bs})
    return tg.sum(carry["h"]) + tg.sum(sums * sums) + tg.sum(exps)


def np_pytree_scan(a, xs, bs):
    h, n, sums, exps = a * 0.5, 0, [], []
    for t in range(len(xs)):
        h = h * bs[t] + np.sin(xs[t] * a) + n
        n += 1
        sums.append(h.sum())
        exps.append(np.exp(-h))
    return h.sum() + (np.array(sums) ** 2).sum() + np.sum(exps)


flow("scan_pytree", pytree_scan, [tg.f64[3], tg.f64[5, 3], tg.f64[5, 1]], np_pytree_scan)


def no_xs(c):
    carry, ys = tg.scan(lambda c, _: (c * 0.9 + tg.sin(c), c), c, None, length=6)
    return tg.sum(carry) + tg.sum(ys * ys)


def np_no_xs(c):
    ys = []
    for _ in range(6):
        ys.append(c)
        c = c * 0.9 + np.sin(c)
    return c.sum() + (np.array(ys) ** 2).sum()


flow("scan_length", no_xs, [tg.f64[4]], np_no_xs)


def every_family(x, w, k):
    """A body holding every op family: elementwise, reduction, shape, contraction, convolution,
    indexing (conversion: scan_pytree's cast)."""
    def step(c, x_t):
        m = tg.reshape(c, (1, 1, 4, 4))
        conv = tg.reshape(tg.conv2d(m, k, padding=1), (4, 4))
        mixed = tg.transpose(conv @ w) + tg.max(c, axis=0, keepdims=True) + x_t
        mixed = tg.pad(mixed, [(1, 0), (0, 0)])[1:]
        rows = tg.embedding(tg.constant(np.array([1, 0, 3, 2], np.int32), c), mixed)
        return tg.tanh(rows * 0.1 + tg.softmax(c, axis=1)), tg.mean(c)
    c, ys = tg.scan(step, x, tg.broadcast_to(tg.reshape(x, (1, 4, 4)), (3, 4, 4)))
    return tg.sum(c) + tg.sum(ys)


def np_every_family(x, w, k):
    from op_table import np_conv2d
    c, ys = x, []
    for _ in range(3):
        conv = np_conv2d(c.reshape(1, 1, 4, 4), k, padding=(1, 1, 1, 1)).reshape(4, 4)
        mixed = (conv @ w).T + c.max(axis=0, keepdims=True) + x
        rows = mixed[[1, 0, 3, 2]]
        soft = np.exp(c - c.max(1, keepdims=True))
        ys.append(c.mean())
        c = np.tanh(rows * 0.1 + soft / soft.sum(1, keepdims=True))
    return c.sum() + sum(ys)


flow("scan_every_family", every_family, [tg.f64[4, 4], tg.f64[4, 4], tg.f64[1, 1, 3, 3]], np_every_family)


# ----------------------------------------------------------------------------- fori_loop
def euler(y0, a):
    """Explicit Euler on y' = a y + cos(t y), t = i dt: the induction variable is used."""
    dt = 0.05
    return tg.sum(tg.fori_loop(0, 20, lambda i, y: y + dt * (a @ y + tg.cos(tg.cast(i, "f64") * dt * y)), y0) ** 2)


def np_euler(y, a):
    for i in range(20):
        y = y + 0.05 * (a @ y + np.cos(i * 0.05 * y))
    return (y ** 2).sum()


flow("fori_euler", euler, [tg.f64[3], tg.f64[3, 3]], np_euler)


def nested(x, w):
    """A scan inside a fori_loop, with a cond inside the scan."""
    def outer(i, c):
        def inner(h, x_t):
            h = tg.cond(tg.sum(h) > 0.0, lambda u: tg.tanh(u @ w), lambda u: tg.sin(u) * 0.5, h + x_t)
            return h, None
        return tg.scan(inner, c, tg.broadcast_to(x, (3,) + x.shape))[0]
    return tg.sum(tg.fori_loop(1, 3, outer, x))


def np_nested(x, w):
    c = x
    for _ in range(1, 3):
        for _ in range(3):
            u = c + x
            c = np.tanh(u @ w) if c.sum() > 0 else np.sin(u) * 0.5
    return c.sum()


flow("nested_loops", nested, [tg.f64[2, 2], tg.f64[2, 2]], np_nested)


# ----------------------------------------------------------------------------- while_loop
def newton_sqrt(a):
    """Newton's iteration for sqrt(a), until converged: reverse mode through a while loop."""
    def not_done(v):
        x, _ = v
        return tg.max(tg.abs(x * x - a)) > 1e-12
    x, steps = tg.while_loop(not_done, lambda v: (0.5 * (v[0] + a / v[0]), v[1] + 1), (a, tg.zeros((), "i32", like=a)),
                             max_iterations=60)
    return tg.sum(x * tg.cast(steps, "f64") / tg.cast(steps, "f64"))


flow("while_newton", newton_sqrt, [tg.f64[3]], lambda a: np.sqrt(a).sum(),
     inputs=lambda rng: [rng.uniform(0.5, 4.0, 3)])


def bounded(x):
    """A loop that hits its bound: at most max_iterations run, in the primal and its derivatives."""
    return tg.sum(tg.while_loop(lambda v: tg.sum(v) > -1e9, lambda v: v * 0.9 + tg.sin(v), x, max_iterations=5))


def np_bounded(x):
    for _ in range(5):
        x = x * 0.9 + np.sin(x)
    return x.sum()


flow("while_bounded", bounded, [tg.f64[3]], np_bounded)


# ----------------------------------------------------------------------------- cond and switch
def piecewise(x, w):
    """A closure (w) in one branch only; operands in both."""
    return tg.sum(tg.cond(tg.sum(x) > 0.0, lambda u: tg.exp(u) @ w, lambda u: u * u - 1.0, x))


flow("cond_true", piecewise, [tg.f64[2, 2], tg.f64[2, 2]], lambda x, w: (np.exp(x) @ w).sum(),
     inputs=lambda rng: [rng.uniform(0.1, 1, (2, 2)), rng.standard_normal((2, 2))])
flow("cond_false", piecewise, [tg.f64[2, 2], tg.f64[2, 2]], lambda x, w: (x * x - 1).sum(),
     inputs=lambda rng: [-rng.uniform(0.1, 1, (2, 2)), rng.standard_normal((2, 2))])


flow("cond_passthrough", lambda x: tg.sum(tg.cond(tg.sum(x) > 0.0, lambda u: u, lambda u: u * 2.0, x) ** 2),
     [tg.f64[3]], lambda x: ((x if x.sum() > 0 else 2 * x) ** 2).sum())


def switched(x, n):
    branches = [lambda u: tg.sin(u), lambda u: {"v": u * u}["v"], lambda u: tg.exp(u) * x]
    return tg.sum(tg.switch(n, branches, x * 2.0))


NP_BRANCHES = [np.sin, lambda u: u * u, None]
for n in (0, 1, 2, 7):  # 7 clamps to the last branch
    flow(f"switch_{n}", switched, [tg.f64[3], tg.i32[()]],
         lambda x, k: np.exp(2 * x).dot(x) if min(int(k), 2) == 2 else NP_BRANCHES[int(k)](2 * x).sum(),
         inputs=lambda rng, n=n: [rng.standard_normal(3), np.int32(n)])


# ----------------------------------------------------------------------------- the tests
@pytest.fixture(scope="module")
def traced():
    return {f.name: tg.trace(f.fn, f.specs) for f in FLOWS}


@pytest.mark.parametrize("case", FLOWS, ids=lambda f: f.name)
def test_values_match_numpy(case, traced):
    args = case.make_inputs(np.random.default_rng(0))
    np.testing.assert_allclose(traced[case.name](*args), case.ref(*args), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
@pytest.mark.parametrize("case", FLOWS, ids=lambda f: f.name)
def test_derivatives_order_1_and_2(case, mode, traced):
    rng = np.random.default_rng(1)
    check_grads(traced[case.name], case.make_inputs(rng), order=2, modes=[mode], rng=rng)


@pytest.mark.parametrize("case", FLOWS, ids=lambda f: f.name)
def test_compiled_matches_interpreter(case, traced):
    graph = traced[case.name]
    args = case.make_inputs(np.random.default_rng(2))
    compiled = tg.compile_scalar(graph)
    value, grads = compiled.value_and_grad(*args)
    want = tg.grad(graph)(*args)
    want = want if isinstance(want, tuple) else (want,)
    np.testing.assert_allclose(value, graph(*args), rtol=1e-12)
    for got, expected in zip(grads, want):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_hessian_through_a_scan_and_jit_of_a_loop():
    """tg.hessian (the tg-generate-hessian pass: HVPs through the loop) against differences of the
    gradient; @tg.jit compiles a loop like any function."""
    graph = tg.trace(lambda x: tg.sum(tg.scan(lambda c, xt: (tg.sin(c * xt) + c, None), x[0], x)[0] ** 2),
                     [tg.f64[3, 2]])
    x = np.random.default_rng(6).normal(size=(3, 2))
    hessian = np.asarray(tg.hessian(graph)(x)).reshape(6, 6)
    grad, eps = tg.grad(graph), 1e-5
    columns = []
    for i in range(6):
        d = np.zeros(6)
        d[i] = eps
        columns.append(((grad(x + d.reshape(3, 2)) - grad(x - d.reshape(3, 2))) / (2 * eps)).ravel())
    np.testing.assert_allclose(hessian, np.array(columns).T, atol=1e-7)
    step = tg.jit(lambda v: tg.fori_loop(0, 5, lambda i, v: v * 0.5 + tg.cast(i, "f32"), v))
    np.testing.assert_allclose(step(np.ones(3, np.float32)), np.full(3, 6.15625, np.float32))


def test_round_trip_and_verify(traced):
    for graph in traced.values():
        again = tg.Graph.parse(graph.ir())
        assert again.verify() and again.ir() == graph.ir()


# ----------------------------------------------------------------------------- scan and its tape
def test_checkpoint_gives_the_same_gradients_with_a_smaller_tape():
    def projected(checkpoint):
        def fn(h0, w, u, xs):  # carries of 2x3, inputs of 2x4: the tapes are told apart by shape
            h, _ = tg.scan(lambda h, x: (tg.tanh(h @ w + x @ u), None), h0, xs, checkpoint=checkpoint)
            return tg.sum(h * h)
        return fn

    rng = np.random.default_rng(3)
    specs = [tg.f64[2, 3], tg.f64[3, 3], tg.f64[4, 3], tg.f64[12, 2, 4]]
    args = [rng.standard_normal(s.shape) for s in specs]
    plain = tg.grad(tg.trace(projected(None), specs))
    want = plain(*args)
    for k in (1, 2, 4, 5, 12, 50):
        got = tg.grad(tg.trace(projected(k), specs))(*args)
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)
    # The tapes: 12 carries without checkpoint; with checkpoint=4, 3 saved and a segment of 4.
    assert "shape = array<i64: 12, 2, 3>" in plain.ir()
    checkpointed = tg.grad(tg.trace(projected(4), specs)).ir()
    assert "shape = array<i64: 3, 2, 3>" in checkpointed and "shape = array<i64: 4, 2, 3>" in checkpointed
    assert "shape = array<i64: 12, 2, 3>" not in checkpointed


def test_rnn_trained_with_scan_matches_the_unrolled_one():
    """compile_scalar(...).value_and_grad over tg.scan, against the same RNN unrolled in Python,
    for a few steps of gradient descent: equal to 1e-12 in f64."""
    rng = np.random.default_rng(4)
    T, B, D = 12, 4, 5
    xs, target = rng.standard_normal((T, B, D)), rng.standard_normal((B, D))

    def scanned(w, u, xs, target):
        h, _ = tg.scan(lambda h, x: (tg.tanh(h @ w + x @ u), None), tg.zeros_like(target), xs)
        return tg.mean((h - target) ** 2)

    def unrolled(w, u, xs, target):
        h = tg.zeros_like(target)
        for t in range(T):
            h = tg.tanh(h @ w + xs[t] @ u)
        return tg.mean((h - target) ** 2)

    specs = [tg.f64[D, D], tg.f64[D, D], tg.f64[T, B, D], tg.f64[B, D]]
    steps = [tg.compile_scalar(fn, specs, wrt=(0, 1)) for fn in (scanned, unrolled)]
    params = [[rng.standard_normal((D, D)) * 0.3, rng.standard_normal((D, D)) * 0.3] for _ in range(2)]
    params[1] = [p.copy() for p in params[0]]
    for _ in range(5):
        for step, p in zip(steps, params):
            loss, grads = step.value_and_grad(*p, xs, target)
            p[0] -= 0.1 * grads[0]
            p[1] -= 0.1 * grads[1]
    for a, b in zip(*params):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _loop_bodies(text):
    """The lines inside the outermost scf.for loops of bufferized IR."""
    inside, depth = [], 0
    for line in text.splitlines():
        opens, closes = line.count("{"), line.count("}")
        if depth or re.search(r"^\s*(%\S+ = )?scf\.for ", line):
            if depth:
                inside.append(line.strip())
            depth += opens - closes
    return inside


def test_a_long_scan_bufferizes_in_place():
    """The carry and the stacked ys are updated in place: inside the loop no buffer of the carry's
    or the stack's size is allocated or copied (temporaries of the body are)."""
    specs = [tg.f32[8, 64], tg.f32[64, 64], tg.f32[1000, 8, 64]]
    compiled = tg.compile_scalar(rnn(), specs)
    body = _loop_bodies(compiled.ir("bufferized"))
    assert body
    # Copies of the carry or the stack, or a new stack: none (the body's temporaries remain, such as
    # the product h @ w, which cannot be written over h while it reads h).
    copies = [line for line in body if re.search(r"memref\.copy.*memref<(8x64|1000x8)xf32>", line)
              or re.search(r"memref\.alloc.*memref<1000x8xf32>", line)]
    assert not copies, copies


def test_allocations_at_run_time_are_the_bodys_temporaries():
    """Counted at run time (tg-record-allocations{count=true}: a global the compiled code increments
    at every allocation), a scan's value_and_grad allocates per step no more buffers than its loop
    bodies hold in the bufferized IR (the body's small temporaries: the product h @ w, an index
    tensor), so nothing of the carry's or the stacks' size is allocated per step behind the IR."""
    import ctypes
    from tgraph.backends.cache import linker
    from tgraph.backends.cpu import CpuExecutable
    from tgraph.passes.cpu.tg_cpu_pipeline import cpu_stages
    if linker() is None:
        pytest.skip("no C compiler driver to link the counted library")
    counts, body_allocs = {}, None
    for steps in (10, 200):
        graph = tg.value_and_grad(tg.trace(rnn(), [tg.f32[8, 64], tg.f32[64, 64], tg.f32[steps, 8, 64]]))
        log = []
        exe = CpuExecutable(graph, pipeline=cpu_stages(1, True, count_allocations=True),
                            log=lambda stage, name, module: log.append(str(module)) if name == "tg-record-allocations{count=true}" else None)
        body_allocs = sum(line.count("memref.alloc(") for line in _loop_bodies(log[-1]))
        library = str(pathlib.Path(tempfile.mkdtemp()) / "counted.so")
        exe.save(library, linker())
        loaded = CpuExecutable.load(library, exe.name, exe.input_specs, exe.output_specs, 1)
        counter = ctypes.c_int64.in_dll(loaded._engine, "tg_allocation_count")
        args = [np.full(spec.shape, 0.01, np.float32) for spec in loaded.input_specs]
        before = counter.value
        loaded(*args)
        counts[steps] = counter.value - before
    per_step = (counts[200] - counts[10]) / 190
    assert 0 < per_step <= body_allocs, (counts, body_allocs)


def test_compile_time_does_not_depend_on_the_length():
    def compile_seconds(steps):
        specs = [tg.f32[4, 16], tg.f32[16, 16], tg.f32[steps, 4, 16]]
        start = time.perf_counter()
        compiled = tg.compile_scalar(rnn(), specs)
        compiled.value_and_grad(*[np.ones(s.shape, np.float32) * 0.01 for s in specs])
        return time.perf_counter() - start, compiled.ir("llvm", entry="value_and_grad")

    (short, short_ir), (long, long_ir) = compile_seconds(10), compile_seconds(10_000)
    # One loop either way: the code grows by what the tapes' sizes change in the codegen, not by the length.
    assert len(long_ir.splitlines()) < 1.5 * len(short_ir.splitlines())
    assert long < 3 * short + 2.0, (short, long)


def test_models_against_jax():
    """The same models in JAX (lax.scan, fori_loop, cond; forward mode for the while loop, which JAX
    cannot reverse): values and gradients agree to 1e-12."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp, lax = jax.numpy, jax.lax

    def j_rnn(h, w, xs):
        h, ys = lax.scan(lambda h, x: (jnp.tanh(h @ w + x),) * 2, h, xs)
        return jnp.sum(h * h) + jnp.sum(jnp.sum(ys, axis=2) ** 2)

    def j_gru(h, wz, uz, wr, ur, wn, un, xs):
        def step(h, x):
            z, r = jax.nn.sigmoid(x @ wz + h @ uz), jax.nn.sigmoid(x @ wr + h @ ur)
            h = (1 - z) * jnp.tanh(x @ wn + (r * h) @ un) + z * h
            return h, h[:, 0]
        h, firsts = lax.scan(step, h, xs)
        return jnp.sum(h * h) + jnp.sum(jnp.sin(firsts))

    def j_euler(y, a):
        return jnp.sum(lax.fori_loop(0, 20, lambda i, y: y + 0.05 * (a @ y + jnp.cos(i * 0.05 * y)), y) ** 2)

    def j_piecewise(x, w):
        return jnp.sum(lax.cond(jnp.sum(x) > 0, lambda u: jnp.exp(u) @ w, lambda u: u * u - 1.0, x))

    pairs = {"scan_rnn": j_rnn, "scan_gru": j_gru, "fori_euler": j_euler, "cond_true": j_piecewise,
             "cond_false": j_piecewise}
    for case in (f for f in FLOWS if f.name in pairs):
        args = case.make_inputs(np.random.default_rng(5))
        graph = tg.trace(case.fn, case.specs)
        ours = tg.value_and_grad(graph)(*args)
        value, grads = jax.value_and_grad(pairs[case.name], argnums=tuple(range(len(args))))(*args)
        np.testing.assert_allclose(ours[0], value, rtol=1e-12)
        for got, want in zip(ours[1:], grads):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12, err_msg=case.name)

    def j_newton(a):
        x, _ = lax.while_loop(lambda v: jnp.max(jnp.abs(v[0] * v[0] - a)) > 1e-12,
                              lambda v: (0.5 * (v[0] + a / v[0]), v[1] + 1), (a, 0))
        return jnp.sum(x)

    a = np.array([0.7, 2.0, 3.5])
    tangent = np.array([1.0, -0.5, 0.25])
    _, want = jax.jvp(j_newton, (a,), (tangent,))
    got = tg.jvp(tg.trace(newton_sqrt, [tg.f64[3]]))(a, tangent)
    np.testing.assert_allclose(got[-1], want, rtol=1e-10)


# ----------------------------------------------------------------------------- misuse
def _error(fn, specs):
    with pytest.raises(tg.TGraphError) as info:
        tg.trace(fn, specs)
    return str(info.value)


def test_a_carry_that_changes_type_names_the_leaf_and_both_types():
    message = _error(lambda x: tg.fori_loop(0, 3, lambda i, v: {"a": v["a"], "b": tg.sum(v["b"])},
                                            {"a": x, "b": x})["a"], [tg.f32[3]])
    assert "['b']" in message and "tensor<3xf32> on entry but tensor<f32>" in message
    message = _error(lambda x: tg.scan(lambda c, _: (tg.cast(c, "f64"), None), x, None, length=2)[0], [tg.f32[3]])
    assert "tensor<3xf32> on entry but tensor<3xf64>" in message


def test_predicates_must_be_boolean_scalars():
    assert "boolean scalar" in _error(lambda x: tg.while_loop(lambda v: v > 0, lambda v: v, x), [tg.f32[3]])
    assert "boolean scalar" in _error(lambda x: tg.cond(tg.sum(x), lambda: x, lambda: x), [tg.f32[3]])


def test_branches_must_agree():
    message = _error(lambda x: tg.cond(tg.sum(x) > 0, lambda u: u, lambda u: tg.sum(u), x), [tg.f32[3]])
    assert "tensor<3xf32> in branch 0 but tensor<f32> in branch 1" in message
    message = _error(lambda x, n: tg.switch(n, [lambda u: u, lambda u: (u, u)], x), [tg.f32[3], tg.i32[()]])
    assert "structure" in message


def test_reverse_mode_through_an_unbounded_while_says_to_pass_max_iterations():
    graph = tg.trace(lambda x: tg.sum(tg.while_loop(lambda v: tg.sum(v) < 10.0, lambda v: v * 2.0, x)), [tg.f64[2]])
    tg.jvp(graph)  # forward mode needs no bound
    with pytest.raises(tg.TGraphError, match="max_iterations"):
        tg.grad(graph)


def test_a_value_leaked_out_of_a_body_is_an_error():
    leaked = []

    def body(i, v):
        leaked.append(v * 2.0)
        return leaked[-1]

    assert "used outside it; return it from the body" in _error(
        lambda x: tg.fori_loop(0, 3, body, x) + leaked[0], [tg.f32[3]])
    leaked.clear()
    assert "the traced function's result" in _error(lambda x: (tg.fori_loop(0, 3, body, x), leaked[0]), [tg.f32[3]])


def test_errors_point_at_the_users_line():
    with pytest.raises(tg.TGraphError) as info:
        tg.trace(lambda x: tg.fori_loop(0, 2, lambda i, v: tg.sum(v), x), [tg.f32[3]])
    assert info.traceback[-1].path.name == "test_control_flow.py"


def test_control_flow_outside_a_trace_is_an_error():
    with pytest.raises(tg.TGraphError, match="inside a function being traced"):
        tg.fori_loop(0, 3, lambda i, v: v, 1.0)
