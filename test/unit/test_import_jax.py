"""tg.from_jax: a table of JAX functions (MLPs, convnets, pools, attention, layer norm, cross-entropy
with integer labels, cumsum, clip, scan, while_loop, fori_loop, cond, switch, embeddings) exported
by jax.export and converted by tg-import-stablehlo. Each imported Graph runs in the interpreter and
compiled, against JAX; tgraph's own gradient, JVP and Hessian-vector product (where reverse mode
applies) of the imported forward against JAX's, in f64 to 1e-10."""

import dataclasses

import numpy as np
import pytest

import tgraph as tg

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp, lax = jax.numpy, jax.lax

RTOL, ATOL = 1e-10, 1e-12


@dataclasses.dataclass
class Case:
    id: str
    fn: object
    args: object          # rng -> tuple of arrays
    wrt: tuple = (0,)     # the float arguments differentiated
    reverse: bool = True  # reverse mode applies (not for unbounded while loops)


def normal(rng, *shape):
    return rng.standard_normal(shape)


def mlp(w1, b1, w2, b2, x, labels):
    h = jnp.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), labels[:, None], axis=1))


def convnet(k1, k2, x):
    """NCHW, SAME padding and a stride, relu, max and average pools."""
    y = lax.conv_general_dilated(x, k1, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
    y = lax.reduce_window(jax.nn.relu(y), -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    y = lax.conv_general_dilated(y, k2, (2, 2), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
    y = lax.reduce_window(y, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 1, 1), "VALID") / 4.0
    return jnp.sum(jnp.tanh(y))


def convnet_nhwc(k, x):
    """JAX's usual layouts (NHWC, HWIO), a dilated kernel and feature groups."""
    y = lax.conv_general_dilated(x, k, (1, 1), ((1, 1), (2, 2)), rhs_dilation=(1, 2), feature_group_count=2,
                                 dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return jnp.mean(jax.nn.softplus(y))


def attention(q, k, v):
    scores = jnp.einsum("bqd,bkd->bqk", q, k) / jnp.sqrt(q.shape[-1])
    mask = jnp.tril(jnp.ones((q.shape[1], k.shape[1]), bool))
    scores = jnp.where(mask, scores, -1e9)
    out = jnp.einsum("bqk,bkd->bqd", jax.nn.softmax(scores, axis=-1), v)
    return jnp.sum(out ** 2)


def layer_norm(x, gamma, beta):
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.var(x, axis=-1, keepdims=True)
    y = (x - mean) * lax.rsqrt(var + 1e-5) * gamma + beta
    return jnp.sum(jax.nn.gelu(y, approximate=False) * y)


def cumsum_clip(x):
    return jnp.sum(jnp.clip(jnp.cumsum(x, axis=1), -1.0, 1.5) ** 2) + jnp.max(x) - jnp.min(x)


def scan_rnn(w, u, h0, xs):
    def step(h, x):
        h = jnp.tanh(h @ w + x @ u)
        return h, jnp.sum(h)
    h, ys = lax.scan(step, h0, xs)
    return jnp.sum(h ** 2) + jnp.sum(ys * jnp.arange(ys.shape[0]))


def fori(x, a):
    return jnp.sum(lax.fori_loop(0, 6, lambda i, c: jnp.sin(c) * a + i * 0.1, x))


def newton_sqrt(x):
    """An unbounded while_loop: forward mode only (JAX cannot reverse it either)."""
    def body(state):
        y, k = state
        return 0.5 * (y + x / y), k + 1
    y, _ = lax.while_loop(lambda s: (jnp.max(jnp.abs(s[0] * s[0] - x)) > 1e-12) & (s[1] < 50), body,
                          (jnp.ones_like(x), 0))
    return jnp.sum(y)


def cond_switch(x, n):
    y = lax.cond(jnp.sum(x) > 0, lambda v: jnp.sin(v) * 2.0, lambda v: -jnp.cos(v), x)
    z = lax.switch(n, [lambda v: v * 3.0, lambda v: jnp.exp(v), lambda v: v ** 2], y)
    return jnp.sum(z)


def embedding(table, ids, w):
    e = table[ids]  # row gather
    return jnp.sum(jnp.tanh(e @ w)) + jnp.sum(table[2] * 0.5)


def argmax_picks(x, labels):
    """argmax (JAX's two-operand reduce) in a one-hot pick and an accuracy."""
    picked = jnp.sum(x * jax.nn.one_hot(jnp.argmax(x, axis=1), x.shape[1]))
    return picked + jnp.mean(jnp.argmin(x, axis=0) == labels) + jnp.max(x, axis=(0, 1))


def scatter_rows(table, v, row, i):
    """x.at[indices].add (repeated indices add up) and x.at[i].set, JAX's scatters of rows."""
    t = jnp.asarray(table).at[jnp.array([0, 2, 2, 4])].add(v)
    t = t.at[i].set(row * 2.0)
    return jnp.sum(jnp.sin(t)) + jnp.sum(jnp.cos(t.at[1].add(0.5)))


def unused_argument(x, unused, y):
    return jnp.sum(x * y)


CASES = [
    Case("mlp", mlp, lambda r: (normal(r, 6, 8), normal(r, 8), normal(r, 8, 4), normal(r, 4), normal(r, 5, 6),
                                np.array([0, 3, 1, 2, 3], np.int32)), wrt=(0, 1, 2, 3)),
    Case("convnet", convnet, lambda r: (0.5 * normal(r, 4, 2, 3, 3), 0.3 * normal(r, 3, 4, 3, 3),
                                        normal(r, 2, 2, 8, 8)), wrt=(0, 1, 2)),
    Case("convnet_nhwc", convnet_nhwc, lambda r: (0.5 * normal(r, 3, 3, 2, 4), normal(r, 2, 6, 7, 4)), wrt=(0, 1)),
    Case("attention", attention, lambda r: (normal(r, 2, 5, 4), normal(r, 2, 5, 4), normal(r, 2, 5, 4)),
         wrt=(0, 1, 2)),
    Case("layer_norm", layer_norm, lambda r: (normal(r, 3, 8), 1 + 0.1 * normal(r, 8), 0.1 * normal(r, 8)),
         wrt=(0, 1, 2)),
    Case("cumsum_clip", cumsum_clip, lambda r: (normal(r, 3, 7),)),
    Case("scan_rnn", scan_rnn, lambda r: (0.4 * normal(r, 4, 4), 0.4 * normal(r, 3, 4), normal(r, 2, 4),
                                          normal(r, 6, 2, 3)), wrt=(0, 1, 2, 3)),
    Case("fori_loop", fori, lambda r: (normal(r, 5), np.array(0.7)), wrt=(0, 1)),
    Case("while_loop", newton_sqrt, lambda r: (1 + np.abs(normal(r, 4)),), reverse=False),
    Case("cond_switch", cond_switch, lambda r: (normal(r, 4), np.array(1, np.int32))),
    Case("embedding", embedding, lambda r: (normal(r, 5, 3), np.array([[0, 4], [2, 2], [1, 3]], np.int32),
                                            normal(r, 3, 2)), wrt=(0, 2)),
    Case("argmax", argmax_picks, lambda r: (normal(r, 4, 5), np.array([0, 1, 2, 3, 0], np.int32))),
    Case("scatter", scatter_rows, lambda r: (normal(r, 5, 3), normal(r, 4, 3), normal(r, 3), np.array(3, np.int32)),
         wrt=(0, 1, 2)),
    Case("unused_argument", unused_argument, lambda r: (normal(r, 3), normal(r, 2), normal(r, 3)), wrt=(0, 1, 2)),
]
_GRAPHS = {}


def inputs(case):
    return case.args(np.random.default_rng(0))


def graph(case):
    if case.id not in _GRAPHS:
        _GRAPHS[case.id] = tg.from_jax(case.fn, *inputs(case))
    return _GRAPHS[case.id]


def close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_interpreter_and_compiled_match_jax(case):
    args = inputs(case)
    want = case.fn(*args)
    g = graph(case)
    close(g(*args), want)
    close(tg.jit(lambda *a: g(*a))(*args), want)


@pytest.mark.parametrize("case", [c for c in CASES if c.reverse], ids=lambda c: c.id)
def test_tgraph_gradient_of_the_import_matches_jax(case):
    args = inputs(case)
    want = jax.grad(case.fn, argnums=case.wrt)(*args)
    got = tg.grad(lambda *a: graph(case)(*a), wrt=case.wrt)(*args)  # compiled
    for g, w in zip(got, want):
        close(g, w)
    interpreted = tg.grad(graph(case), wrt=case.wrt)(*args)  # the adjoint Graph, interpreted
    for g, w in zip(interpreted if isinstance(interpreted, tuple) else (interpreted,), want):
        close(g, w)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_tgraph_jvp_of_the_import_matches_jax(case):
    args = inputs(case)
    rng = np.random.default_rng(1)
    tangents = [rng.standard_normal(np.shape(args[i])) for i in case.wrt]
    full = [np.zeros_like(a) if np.issubdtype(np.asarray(a).dtype, np.floating) else None for a in args]
    for i, t in zip(case.wrt, tangents):
        full[i] = t
    _, want = jax.jvp(lambda *w: case.fn(*[w[case.wrt.index(i)] if i in case.wrt else a for i, a in enumerate(args)]),
                      [args[i] for i in case.wrt], tangents)
    y, dy = tg.jvp(lambda *a: graph(case)(*a), wrt=case.wrt)(*args, *tangents)
    close(y, case.fn(*args))
    close(dy, want)


@pytest.mark.parametrize("case", [c for c in CASES if c.reverse], ids=lambda c: c.id)
def test_tgraph_hvp_of_the_import_matches_jax(case):
    args = inputs(case)
    rng = np.random.default_rng(2)
    vectors = [rng.standard_normal(np.shape(args[i])) for i in case.wrt]

    def grad_fn(*w):
        return jax.grad(lambda *w2: case.fn(*[w2[case.wrt.index(i)] if i in case.wrt else a
                                              for i, a in enumerate(args)]), argnums=tuple(range(len(w))))(*w)
    _, want = jax.jvp(grad_fn, [args[i] for i in case.wrt], vectors)
    got = tg.hvp(lambda *a: graph(case)(*a), wrt=case.wrt)(*args, *vectors)
    for g, w in zip(got, want):
        close(g, w)


def test_unused_arguments_are_kept_in_order():
    case = next(c for c in CASES if c.id == "unused_argument")
    g = graph(case)
    assert [str(s) for s in g.input_specs] == ["tensor<3xf64>", "tensor<2xf64>", "tensor<3xf64>"]
    assert g.input_names == ["x0", "x1", "x2"]


def test_a_counting_while_becomes_an_scf_for():
    assert "scf.for" in graph(next(c for c in CASES if c.id == "scan_rnn")).ir()
    assert "scf.while" in graph(next(c for c in CASES if c.id == "while_loop")).ir()
    assert "stablehlo" not in graph(CASES[0]).ir()


def test_pytree_arguments_flatten_in_jax_order():
    def f(params, x):
        return jnp.sum(jnp.tanh(x @ params["w"] + params["b"]))

    params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    g = tg.from_jax(f, params, np.ones((4, 3)))
    assert g.input_names == ["x0['b']", "x0['w']", "x1"]
    close(g(np.zeros(2), np.ones((3, 2)), np.ones((4, 3))), f(params, np.ones((4, 3))))
    specs = tg.from_jax(f, {"w": jax.ShapeDtypeStruct((3, 2), jnp.float32), "b": jax.ShapeDtypeStruct((2,), jnp.float32)},
                        jax.ShapeDtypeStruct((4, 3), jnp.float32))  # shapes and dtypes alone
    assert [str(s) for s in specs.input_specs] == ["tensor<2xf32>", "tensor<3x2xf32>", "tensor<4x3xf32>"]


def test_unsupported_ops_are_named():
    def solve(a, b):
        return jnp.linalg.solve(a, b)

    with pytest.raises(tg.TGraphError, match=r"stablehlo.custom_call @\w+ is not supported"):
        tg.from_jax(solve, np.eye(3), np.ones(3))

    def random_bits(key):
        return jax.random.uniform(key, (3,))

    with pytest.raises(tg.TGraphError, match=r"argument 0 of @main is tensor<2xui32>, which tg does not have"):
        tg.from_jax(random_bits, jax.random.key_data(jax.random.PRNGKey(0)))

    with pytest.raises(tg.TGraphError, match=r"stablehlo.sort is not supported"):
        tg.from_jax(jnp.sort, np.ones(4))

    with pytest.raises(tg.TGraphError, match=r"test_import_jax.py:\d+:\d+: tg-import-stablehlo: stablehlo.scatter "
                                             r"setting several rows is not supported"):
        tg.from_jax(lambda x: x.at[np.array([0, 1])].set(2.0), np.ones((3, 2)))  # at the user's line

    with pytest.raises(tg.TGraphError, match=r"argument 0 of @main is tensor<3xui8>, which tg does not have"):
        tg.from_jax(lambda x: jnp.sum(x.astype(jnp.float32)), np.ones(3, np.uint8))


def test_import_stablehlo_reads_text_and_portable_artifacts():
    from jax import export

    exported = export.export(jax.jit(mlp))(*inputs(CASES[0]))
    for module in (exported.mlir_module(), exported.mlir_module_serialized):
        g = tg.import_stablehlo(module)
        close(g(*inputs(CASES[0])), mlp(*inputs(CASES[0])))
    with pytest.raises(tg.TGraphError, match=r"the module has no function @nope; it has @main"):
        tg.import_stablehlo(exported.mlir_module(), func="nope")
    with pytest.raises(tg.TGraphError, match=r"cannot read the StableHLO module"):
        tg.import_stablehlo("module { func.func @main( }")


# StableHLO's own reference interpreter is a third opinion on the forward functions. It aborts the
# whole process on an op it lacks, so it runs in a child process.
REFERENCE_CHILD = """
import json, sys
import numpy as np
sys.path.insert(0, {here!r})
import test_import_jax as t
from tgraph.support.mlir import ir, stablehlo_module
from jax import export
shlo = stablehlo_module()
results = {{}}
for case in t.CASES:
    if case.id not in {ids!r}:
        continue
    args = [np.asarray(a) for a in t.inputs(case)]
    text = export.export(t.jax.jit(case.fn))(*args).mlir_module()
    ctx = ir.Context()
    shlo.register_dialect(ctx)
    with ctx:
        module = ir.Module.parse(text)
        attrs = [ir.DenseElementsAttr.get(np.ascontiguousarray(a).reshape(-1), shape=list(a.shape)) for a in args]
        results[case.id] = [np.array(out).tolist() for out in shlo.eval_module(module, attrs)]
print(json.dumps(results))
"""
REFERENCE_CASES = ["mlp", "attention", "layer_norm", "cumsum_clip", "scan_rnn", "cond_switch", "embedding", "convnet"]


def test_stablehlo_reference_interpreter_agrees():
    import json
    import os
    import subprocess
    import sys

    from tgraph.support.mlir import stablehlo_module

    try:
        stablehlo_module()
    except ImportError:
        pytest.skip("the MLIR bindings in use have no StableHLO support")
    code = REFERENCE_CHILD.format(here=os.path.dirname(__file__), ids=REFERENCE_CASES)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    reference = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(reference) == sorted(REFERENCE_CASES)
    for case in CASES:
        if case.id in reference:
            np.testing.assert_allclose(graph(case)(*inputs(case)), reference[case.id][0], rtol=1e-9, atol=1e-12)


def test_tgraph_opt_converts_a_file_jax_export_wrote(tmp_path):
    import subprocess
    import sys

    from jax import export

    path = tmp_path / "mlp.mlir"
    path.write_text(export.export(jax.jit(mlp))(*inputs(CASES[0])).mlir_module())
    opt = [sys.executable, "-m", "tgraph.tools.opt"]
    done = subprocess.run(opt + ["--tg-import-stablehlo", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert '"tg.dot_general"' in done.stdout and "stablehlo" not in done.stdout
    close(tg.Graph.parse(done.stdout)(*inputs(CASES[0])), mlp(*inputs(CASES[0])))


def test_imported_program_runs_on_the_gpu_emulator(emulated_gpu):
    """The imported MLP's value and gradient compiled for target='cuda', run on the driver's emulator."""
    case = CASES[0]
    args = inputs(case)
    step = tg.compile_scalar(graph(case), wrt=[0, 1, 2, 3], target="cuda")
    value, grads = step.value_and_grad(*args)
    close(value, mlp(*args))
    for g, w in zip(grads, jax.grad(mlp, argnums=(0, 1, 2, 3))(*args)):
        close(np.asarray(g), w)
    assert emulated_gpu.launches
