"""Compiled objects: every entry point on the models agrees with the reference interpreter running
the AD-generated functions; argument checks, fresh outputs, threads, memory, jit caching and the
IR of every stage."""

import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

import tgraph as tg
from models import MODELS

TOL = dict(rtol=2e-4, atol=2e-5)


def f32_inputs(model, seed=0):
    rng = np.random.default_rng(seed)
    return [np.asarray(a, s.np_dtype) for a, s in zip(model.make_inputs(rng), model.specs)]


def assert_close(actual, expected):
    for a, e in zip(actual, expected):
        if e is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, e, **TOL)


@pytest.fixture(scope="module", params=MODELS, ids=lambda m: m.name)
def compiled_model(request):
    model = request.param
    return model, tg.compile_scalar(model.fn, model.specs)


def test_scalar_entry_points_match_the_interpreter(compiled_model):
    model, c = compiled_model
    xs = f32_inputs(model)
    graph = c.graph
    wrt = c.wrt
    rng = np.random.default_rng(1)

    np.testing.assert_allclose(c.forward(*xs), graph(*xs), **TOL)
    expected = tg.grad(graph, wrt=wrt)(*xs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    aligned = [None] * len(xs)
    for i, g in zip(wrt, expected):
        aligned[i] = g
    assert_close(c.backward(*xs), aligned)
    value, grads = c.value_and_grad(*xs)
    np.testing.assert_allclose(value, graph(*xs), **TOL)
    assert_close(grads, aligned)
    assert_close(c.backward_with_seed(xs, 2.5), [None if g is None else 2.5 * g for g in aligned])
    dxs = [rng.standard_normal(xs[i].shape).astype(np.float32) for i in wrt]
    y, dy = c.jvp(xs, dxs)
    ref_y, ref_dy = tg.jvp(graph, wrt=wrt)(*xs, *dxs)
    np.testing.assert_allclose([y, dy], [ref_y, ref_dy], **TOL)


def test_out_entry_points_match_the_interpreter():
    def layer(x, w, b):
        h = tg.tanh(x @ w + b)
        return h, tg.sum(h, axis=1)

    c = tg.compile_out(layer, [tg.f32[4, 3], tg.f32[3, 5], tg.f32[5]])
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal(s.shape).astype(np.float32) for s in c.input_specs]
    assert_close(c.forward(*xs), c.graph(*xs))
    seeds = (rng.standard_normal((4, 5)).astype(np.float32), rng.standard_normal(4).astype(np.float32))
    assert_close(c.vjp_with_seed(xs, seeds), tg.vjp(c.graph)(*xs, *seeds))
    dxs = [rng.standard_normal(x.shape).astype(np.float32) for x in xs]
    (y, s), (dy, ds) = c.jvp(xs, dxs)
    ref = tg.jvp(c.graph)(*xs, *dxs)
    assert_close([y, s, dy, ds], ref)


def test_wrt_selects_the_differentiated_inputs():
    c = tg.compile_scalar(lambda x, w: tg.sum(x * w), [tg.f32[3], tg.f32[3]], wrt=[1])
    x, w = np.arange(3, dtype=np.float32), np.ones(3, np.float32)
    dx, dw = c.backward(x, w)
    assert dx is None
    np.testing.assert_array_equal(dw, x)
    assert c.jvp((x, w), [np.ones(3, np.float32)]) == (3.0, 3.0)


def test_argument_errors_name_the_argument():
    def loss(x, weights):
        return tg.sum(x @ weights)

    c = tg.compile_scalar(loss, [tg.f32[2, 3], tg.f32[3]])
    x, w = np.ones((2, 3), np.float32), np.ones(3, np.float32)
    with pytest.raises(tg.TGraphError, match=r"forward: expected 2 inputs, got 1"):
        c.forward(x)
    with pytest.raises(tg.TGraphError, match=r"backward: input 1 \('weights'\) must have shape \(3,\) "
                                             r"\(tensor<3xf32>\), got shape \(4,\)"):
        c.backward(x, np.ones(4, np.float32))
    with pytest.raises(tg.TGraphTypeError, match=r"forward: input 0 \('x'\) must be tensor<2x3xf32> \(float32\), "
                                                 r"got an array of complex128"):
        c.forward(np.ones((2, 3), complex), w)
    with pytest.raises(tg.TGraphError, match=r"backward_with_seed: seed 0 must have shape \(\)"):
        c.backward_with_seed((x, w), np.ones(2))
    with pytest.raises(tg.TGraphError, match=r"unknown stage 'ptx'"):
        c.ir("ptx")


def test_conversions_copies_and_fresh_outputs():
    c = tg.compile_out(lambda x, y: x * 2.0 + y, [tg.f32[2, 3], tg.f32[2, 3]])
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    x = base[:2, :3]  # not contiguous: copied
    y = [[1, 1, 1], [1, 1, 1]]  # a list of ints: converted
    out = c.forward(x, y)
    np.testing.assert_array_equal(out, x * 2 + 1)
    out[:] = -1  # the caller owns the result
    np.testing.assert_array_equal(c.forward(x, y), x * 2 + 1)
    assert c.forward(x, y) is not c.forward(x, y)
    assert tg.compile_scalar(lambda s: s * 3.0, [tg.f64[()]]).forward(2) == 6.0  # Python scalars fit 0-d inputs


def test_calls_from_several_threads():
    c = tg.compile_out(lambda x: tg.tanh(x) @ x.T, [tg.f32[16, 16]])
    inputs = [np.random.default_rng(i).standard_normal((16, 16)).astype(np.float32) for i in range(8)]
    expected = [np.tanh(a) @ a.T for a in inputs]
    errors = []

    def work(k):
        for _ in range(200):
            try:
                np.testing.assert_allclose(c.forward(inputs[k]), expected[k], rtol=1e-4, atol=1e-5)
            except AssertionError as err:
                errors.append(err)
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc to read resident memory")
def test_no_leak_over_100000_calls():
    c = tg.compile_scalar(lambda x, w: tg.sum(tg.relu(x * w)), [tg.f32[64], tg.f32[64]])
    x, w = np.ones(64, np.float32), np.ones(64, np.float32)
    for _ in range(2000):  # warm up allocator pools
        c.value_and_grad(x, w)
    before = resident_bytes()
    for _ in range(100_000):
        c.value_and_grad(x, w)
    assert resident_bytes() - before < 8 * 2 ** 20  # 100,000 calls leaking even 100 bytes each would show


def test_jit_caches_one_compilation_per_signature():
    traced = []

    @tg.jit
    def f(x, w):
        traced.append(x.shape)
        return tg.sum(tg.tanh(x @ w))

    x, w = np.ones((2, 3), np.float32), np.full(3, 0.5, np.float32)
    np.testing.assert_allclose(f(x, w), 2 * np.tanh(1.5), rtol=1e-6)
    f(x + 1, w)
    assert f.cache_size == 1 and len(traced) == 1
    f(np.ones((4, 3), np.float32), w)
    f(x.astype(np.float64), w.astype(np.float64))
    assert f.cache_size == 3 and len(traced) == 3
    gx, gw = f.grad(x, w)
    np.testing.assert_allclose(gw, 2 * (1 - np.tanh(1.5) ** 2) * np.ones(3), rtol=1e-5)
    value, grads = f.value_and_grad(x, w)
    np.testing.assert_allclose(value, 2 * np.tanh(1.5), rtol=1e-6)
    y, dy = f.jvp((x, w), (np.zeros_like(x), np.ones_like(w)))
    np.testing.assert_allclose(dy, 2 * 3 * (1 - np.tanh(1.5) ** 2), rtol=1e-5)
    np.testing.assert_allclose(f.vjp((x, w), np.float32(2.0))[1], 2 * gw, rtol=1e-6)
    assert f.cache_size == 3  # the derivative views reuse the cached compilation


def test_check_reports_the_largest_difference():
    c = tg.compile_out(lambda x: tg.exp(x) / tg.sum(tg.exp(x)), [tg.f32[10]])
    report = c.check(np.linspace(-3, 3, 10, dtype=np.float32))
    assert report.max_difference < 1e-6
    assert str(report).startswith("output 0: max |compiled - interpreter| = ")


def test_ir_of_every_stage_and_the_pass_log(tmp_path):
    c = tg.compile_scalar(lambda x: tg.sum(tg.tanh(x) * x), [tg.f32[8]], dump_ir=str(tmp_path))
    assert '"tg.tanh"' in c.ir("tg")
    assert "@main_jvp" in c.ir("tangent")
    assert "@main_grad" in c.ir("adjoint")
    assert "linalg.generic" in c.ir("linalg", entry="grad") and "tg." not in c.ir("linalg", entry="grad")
    assert "vector.transfer_read" in c.ir("vector", entry="grad")
    assert "memref" in c.ir("bufferized")
    assert "llvm.func" in c.ir("llvm")
    log = c.pass_log("forward")
    names = [name for name, _ in log]
    assert names[:3] == ["tg-hoist-invariant-transposes", "tg-inline-calls", "tg-to-linalg"] and "one-shot-bufferize" in " ".join(names)
    assert all(isinstance(text, str) and "module" in text for _, text in log)
    c.forward(np.ones(8, np.float32))
    files = sorted(f for f in os.listdir(tmp_path) if f.startswith("forward-"))
    assert [f[:-5] for f in files[:3]] == [f"forward-{i:02d}-{n}" for i, n in enumerate(names[:3], 1)] and len(files) == len(names)
    assert any(f.startswith("grad-03-tg-to-linalg") for f in os.listdir(tmp_path))


def test_print_ir_after_all_environment_variable():
    code = ("import numpy as np, tgraph as tg\n"
            "c = tg.compile_out(lambda x: x * 2.0, [tg.f32[4]])\n"
            "print(c.forward(np.ones(4, np.float32)))")
    env = dict(os.environ, TGRAPH_PRINT_IR_AFTER_ALL="1")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "// -----// IR after tg-to-linalg (forward) //----- //" in done.stderr
    assert "IR after reconcile-unrealized-casts" in done.stderr and "[2. 2. 2. 2.]" in done.stdout


def test_construction_errors():
    with pytest.raises(tg.TGraphError, match=r"compile_scalar needs one scalar floating-point output; @main returns "
                                             r"\(tensor<3xf32>\). Use tgraph.compile_out"):
        tg.compile_scalar(lambda x: x * 2.0, [tg.f32[3]])
    with pytest.raises(tg.TGraphError, match=r"needs its input_specs"):
        tg.compile_out(lambda x: x)
    with pytest.raises(tg.TGraphError, match=r"wrt=1: argument 1 is tensor<3xi32>; only floating-point"):
        tg.compile_scalar(lambda x, n: tg.sum(x), [tg.f32[3], tg.i32[3]], wrt=[1])
    with pytest.raises(tg.TGraphError, match=r"target 'tpu' is not available"):
        tg.compile_out(lambda x: x, [tg.f32[3]], target="tpu")

    @tg.jit
    def double(x):
        return x * 2.0

    with pytest.raises(tg.TGraphError, match=r"double.grad needs one scalar floating-point output; it returns "
                                             r"\(tensor<3xf32>\). Use .vjp with a seed"):
        double.grad(np.ones(3, np.float32))
    with pytest.raises(tg.TGraphError, match=r"unknown entry point 'backward'"):
        double.compiled(np.ones(3, np.float32)).pass_log("backward")


def test_eager_compiles_every_entry_point():
    c = tg.compile_scalar(lambda x: tg.sum(x * x), [tg.f32[3]], eager=True)
    assert "compiled: forward, jvp, grad, vjp, value_and_grad" in repr(c)


def test_a_buffer_the_machine_cannot_hold_is_a_memory_error(tmp_path, monkeypatch):
    """An outer product of two 10^7-vectors is a 400 TB intermediate, more than any x86-64 address
    space holds (so the outcome does not depend on the host's memory or overcommit policy): a
    MemoryError before the call (the compiled code would have written through malloc's null
    pointer), also when loaded from the disk cache; a function whose buffers fit runs."""
    monkeypatch.setenv("TGRAPH_CACHE_DIR", str(tmp_path))
    fn = lambda x, y: tg.sum(tg.max(x.reshape(-1, 1) @ y.reshape(1, -1), axis=0))  # noqa: E731
    x = np.ones(10**7, np.float32)
    for _ in range(2):  # compiled, then from the cache
        f = tg.compile_out(fn, [tg.f32[10**7]] * 2)
        with pytest.raises(MemoryError, match=r"@\w+ needs a buffer of 372529.0 GiB \(400000000000000 bytes\)"):
            f.forward(x, x)
    assert f._entries["forward"].loaded_from is not None
    small = tg.compile_out(fn, [tg.f32[300]] * 2)
    np.testing.assert_allclose(small.forward(np.ones(300, np.float32), np.ones(300, np.float32)), 300.0)


def test_graphs_that_failed_to_compile():
    """A row sum concatenated to its rows (the gradient broadcasts one element per row: a 0-d
    vector transfer), and a sum of mins (the fused negation made the sum's combiner a
    subtraction, which the vectorizer cannot reduce)."""
    x = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    f = tg.compile_scalar(lambda x: tg.sum(tg.concatenate([x, tg.sum(x, axis=1, keepdims=True)], axis=1)),
                          [tg.f32[4, 8]])
    value, (grad,) = f.value_and_grad(x)
    np.testing.assert_allclose(value, 2 * x.sum(), rtol=1e-5)
    np.testing.assert_array_equal(grad, np.full((4, 8), 2.0, np.float32))
    y = np.random.default_rng(1).standard_normal((2, 1, 5, 5)).astype(np.float32)
    g = tg.compile_out(lambda y: tg.sum(tg.min(y, axis=-1), axis=0), [tg.f32[2, 1, 5, 5]])
    np.testing.assert_allclose(g.forward(y), y.min(axis=-1).sum(axis=0), rtol=1e-6)


def test_donate_argnums_reuses_the_callers_arrays():
    """@jit(donate_argnums=...): each leaf of a donated argument becomes the output of its shape and
    dtype (the returned array is the caller's array, written by the compiled code); a call without
    donation leaves its inputs as they were; the results agree."""
    opt = tg.optim.adam(0.05)

    def step(params, opt_state, x, y):
        value, grads = tg.value_and_grad(lambda p: tg.mean((x @ p["w"] + p["b"] - y) ** 2))(params)
        updates, opt_state = opt.update(grads, opt_state, params)
        return tg.optim.apply_updates(params, updates), opt_state, value

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 2))
    start = {"w": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}
    donating, plain = tg.jit(step, donate_argnums=(0, 1)), tg.jit(step)
    p, s = {k: v.copy() for k, v in start.items()}, opt.init(start)
    q, t = {k: v.copy() for k, v in start.items()}, opt.init(start)
    for _ in range(4):
        given_w, given_mu, kept_q = p["w"], s[0].mu["b"], q["w"].copy()
        p, s, value = donating(p, s, x, y)
        new_q, t, want = plain(q, t, x, y)
        assert p["w"] is given_w and s[0].mu["b"] is given_mu  # the same arrays, now holding the results
        np.testing.assert_array_equal(q["w"], kept_q)  # not donated: untouched
        q = new_q
        np.testing.assert_allclose(p["w"], q["w"], rtol=1e-13)
        np.testing.assert_allclose(value, want, rtol=1e-13)
    assert donating.compiled(p, s, x, y).donate == tuple((i, i) for i in range(7))
    assert "bufferization.materialize_in_destination" in "\n".join(
        text for name, text in donating.compiled(p, s, x, y).pass_log("forward") if name.startswith("tg-donate-results"))


def test_donate_argnums_misuse_is_a_clear_error():
    double = tg.jit(lambda a, b: (a * 2.0, b + 1.0), donate_argnums=0)
    a = np.ones(3)
    with pytest.raises(tg.TGraphError, match=r"input 0 is donated \(donate_argnums\) but shares its memory with input 1"):
        double(a, a)
    out, _ = double(a, np.zeros(3))
    assert out is a and np.all(a == 2.0)
    with pytest.raises(tg.TGraphError, match="donate_argnums=\\('x',\\): give argument indices"):
        tg.jit(lambda a: a, donate_argnums=("x",))
    with pytest.raises(tg.TGraphError, match="donate_argnums is not implemented for target='cuda' yet"):
        tg.jit(lambda a: a, target="cuda", donate_argnums=0)


@pytest.mark.parametrize("shape", [(256,), (784, 512)])  # one loop nest; blocks of rows per thread
def test_donated_results_are_computed_in_place(shape):
    """A donated parameter's update writes the caller's array tile by tile: no buffer of its size
    is allocated or copied, and the function has no result left; with the old value read after the
    update, bufferization keeps a copy and the values are still right."""
    def step(p, g):
        return p - 0.1 * g, tg.sum(p * p)

    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(shape), rng.standard_normal(shape)
    donating, plain = tg.jit(step, donate_argnums=0), tg.jit(step)
    buffer = f"memref<{'x'.join(map(str, shape))}xf64>"
    alloc = re.compile(r"memref\.alloc\(\)[^\n]*: " + re.escape(buffer))
    want = plain(p, g)
    q = p.copy()
    got = donating(q, g)
    assert got[0] is q
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)

    def update_only(p, g):
        return p - 0.1 * g

    bufferized = tg.jit(update_only, donate_argnums=0).compiled(p, g).ir("bufferized")
    assert not alloc.search(bufferized) and "memref.copy" not in bufferized  # written in place, not copied in
    assert "func.func @tgraph.update_only(%arg0: " + buffer + ", %arg1: " + buffer + ")" in bufferized  # no result
