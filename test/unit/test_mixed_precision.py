"""Mixed precision: tg.dot_general and tg.conv2d with a preferred_element_type (bf16 or f16 operands,
their products summed in and returned as f32; f32 operands summed in f64), as jax.lax.dot_general's.

The interpreter against numpy; the compiled CPU code (and the GPU kernels run on the CPU) against the
interpreter; derivatives (JVP, VJP, order 2) against the same function computed in the wider type
from upcast inputs: a bf16 operand's cotangent is bf16, the wider one's rounded; vmap; the errors.
The op-table cases (op_table.py, `preferred`) run these ops through every other suite too."""

import re

import ml_dtypes
import numpy as np
import pytest

import tgraph as tg
from tgraph.backends import ptx
from tgraph.backends.cpu import CpuExecutable
from tgraph.backends.cuda import CudaExecutable
from op_table import np_conv2d
from test_lowering import check

BF16 = np.dtype(ml_dtypes.bfloat16)
BF16_TOL = 2e-2  # a bf16 result (a cotangent rounded to bf16, then summed and rounded again) vs f32


def normal(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def assert_close_relative(got, want, tol):
    """Within `tol` of want, relative to want's largest magnitude (bf16 rounds each element by up to
    2^-9 of itself; sums of such elements are off by that much of the largest terms)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def mlp_loss(x, w1, w2):
    """Two tanh layers, each a matmul summed in f32, the hidden activations rounded back to the
    operands' type (bf16 training: bf16 weights and activations, f32 sums); in f32 it is plain f32."""
    h = tg.tanh(tg.matmul(x, w1, preferred_element_type=tg.f32))
    y = tg.matmul(h.astype(x.spec.dtype), w2, preferred_element_type="f32")
    return tg.mean(tg.tanh(y) ** 2)


MLP_SHAPES = [(8, 16), (16, 12), (12, 4)]


def mlp_inputs(rng, dtype):
    return [normal(rng, s, dtype) * (1.0 if i == 0 else 0.5) for i, s in enumerate(MLP_SHAPES)]


def upcast(arrays, dtype=np.float32):
    return [np.asarray(a).astype(dtype) for a in arrays]


# ----------------------------------------------------------------------------- the op and its builders
def test_result_type_and_attribute():
    g = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[2, 3], tg.bf16[3, 4]])
    assert g.output_specs == [tg.f32[2, 4]]
    assert "preferred_element_type = f32" in g.ir()
    again = tg.Graph.parse(g.ir())
    assert again.verify() and again.ir() == g.ir()
    # Left out, or the operands' own type: the op as before, without the attribute.
    for preferred in (None, tg.bf16, "bf16"):
        plain = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type=preferred), [tg.bf16[2, 3], tg.bf16[3, 4]])
        assert plain.output_specs == [tg.bf16[2, 4]] and "preferred_element_type" not in plain.ir()
    # Every builder takes the type as a name, a tgraph dtype or a numpy dtype.
    for preferred in ("f64", tg.f64, np.float64):
        for fn, specs in ((lambda a, b: tg.dot_general(a, b, ((1,), (0,)), preferred_element_type=preferred),
                           [tg.f32[2, 3], tg.f32[3, 4]]),
                          (lambda a, b: tg.matmul(a, b, preferred_element_type=preferred),
                           [tg.f32[5, 2, 3], tg.f32[3, 4]]),
                          (lambda x, w: tg.conv2d(x, w, preferred_element_type=preferred),
                           [tg.f32[1, 2, 5, 5], tg.f32[3, 2, 3, 3]])):
            assert tg.trace(fn, specs).output_specs[0].dtype == "f64"


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 2, 3), (3, 4))])
def test_matmul_forwards_the_type_in_every_form(shapes):
    specs = [tg.TensorSpec(s, "bf16") for s in shapes]
    g = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), specs)
    rng = np.random.default_rng(0)
    a, b = (normal(rng, s.shape, BF16) for s in specs)
    got = g(a, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.matmul(a.astype(np.float64), b.astype(np.float64)), rtol=1e-6, atol=1e-6)


def test_bias_is_added_in_the_result_type():
    rng = np.random.default_rng(1)
    x, w, b = normal(rng, (4, 6), BF16), normal(rng, (3, 6), BF16), normal(rng, (3,), BF16)
    g = tg.trace(lambda x, w, b: tg.linear(x, w, b, preferred_element_type="f32"), [tg.bf16[4, 6], tg.bf16[3, 6], tg.bf16[3]])
    assert g.output_specs == [tg.f32[4, 3]]
    want = x.astype(np.float64) @ w.astype(np.float64).T + b.astype(np.float64)
    np.testing.assert_allclose(g(x, w, b), want, rtol=1e-6, atol=1e-6)
    xs, ws, bs = normal(rng, (1, 2, 5, 5), BF16), normal(rng, (3, 2, 3, 3), BF16), normal(rng, (3,), BF16)
    c = tg.trace(lambda x, w, b: tg.conv2d(x, w, b, padding=1, preferred_element_type="f32"),
                 [tg.bf16[1, 2, 5, 5], tg.bf16[3, 2, 3, 3], tg.bf16[3]])
    assert c.output_specs == [tg.f32[1, 3, 5, 5]]
    want = np_conv2d(*upcast([xs, ws], np.float64), padding=(1, 1, 1, 1)) + bs.astype(np.float64).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(c(xs, ws, bs), want, rtol=1e-6, atol=1e-6)


def test_misuse_is_a_clear_error():
    with pytest.raises(tg.TGraphError, match=r"tg.dot_general: preferred_element_type i32 is not allowed for f32 "
                                             r"operands \(allowed: f32, f64: the operand type or a wider one of its kind\)"):
        tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="i32"), [tg.f32[2, 3], tg.f32[3, 4]])
    with pytest.raises(tg.TGraphError, match="preferred_element_type bf16 is not allowed for f32 operands"):
        tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type=tg.bf16), [tg.f32[2, 3], tg.f32[3, 4]])
    with pytest.raises(tg.TGraphError, match="tg.conv2d: preferred_element_type bf16 is not allowed for f16 operands"):
        tg.trace(lambda x, w: tg.conv2d(x, w, preferred_element_type="bf16"), [tg.f16[1, 1, 3, 3], tg.f16[1, 1, 2, 2]])
    with pytest.raises(tg.TGraphTypeError, match="unknown element type 'f128'"):
        tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f128"), [tg.f32[2, 3], tg.f32[3, 4]])


# ----------------------------------------------------------------------------- values
def test_interpreter_sums_in_the_preferred_type():
    """Long sums of bf16 products: in f32 they agree with numpy's f32 matmul of the upcast operands;
    without the attribute the result is rounded to bf16 (2^-9 relative)."""
    rng = np.random.default_rng(2)
    a, b = normal(rng, (16, 512), BF16), normal(rng, (512, 8), BF16)
    want = a.astype(np.float32) @ b.astype(np.float32)
    g = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[16, 512], tg.bf16[512, 8]])
    got = g(a, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    rounded = tg.trace(lambda a, b: a @ b, [tg.bf16[16, 512], tg.bf16[512, 8]])(a, b)
    assert rounded.dtype == BF16 and np.abs(rounded.astype(np.float32) - want).max() > 1e-3 * np.abs(want).max()
    # f32 operands summed in f64: numpy's f64 matmul of the upcast operands.
    x, y = normal(rng, (6, 300), np.float32), normal(rng, (300, 5), np.float32)
    g64 = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f64"), [tg.f32[6, 300], tg.f32[300, 5]])
    np.testing.assert_allclose(g64(x, y), x.astype(np.float64) @ y.astype(np.float64), rtol=1e-13, atol=1e-13)


CONTRACTIONS = [  # (name, function, input specs): sizes the CPU strategies tile and vectorize
    ("matmul-bf16", lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[64, 96], tg.bf16[96, 80]]),
    ("matmul-f16", lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.f16[64, 96], tg.f16[96, 80]]),
    ("matmul-f32-in-f64", lambda a, b: tg.matmul(a, b, preferred_element_type="f64"), [tg.f32[64, 96], tg.f32[96, 80]]),
    ("batch-matmul-bf16", lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[3, 33, 40], tg.bf16[3, 40, 48]]),
    ("transposed-bf16", lambda a, b: tg.matmul(a, b.T, preferred_element_type="f32"), [tg.bf16[40, 32], tg.bf16[48, 32]]),
    ("general-f32-in-f64", lambda x, y: tg.dot_general(x, y, ((1,), (1,)), ((0,), (2,)), preferred_element_type="f64"),
     [tg.f32[3, 40, 16], tg.f32[8, 40, 3]]),
    ("outer-bf16", lambda a, b: tg.matmul(a[:, None], b[None, :], preferred_element_type="f32"), [tg.bf16[16], tg.bf16[24]]),
    ("conv-bf16", lambda x, w: tg.conv2d(x, w, padding=1, preferred_element_type="f32"),
     [tg.bf16[2, 8, 12, 12], tg.bf16[16, 8, 3, 3]]),
    ("conv-grouped-f32-in-f64", lambda x, w: tg.conv2d(x, w, stride=2, groups=2, preferred_element_type="f64"),
     [tg.f32[2, 4, 9, 9], tg.f32[6, 2, 3, 3]]),
]


@pytest.mark.parametrize("name, fn, specs", CONTRACTIONS, ids=[c[0] for c in CONTRACTIONS])
def test_compiled_matches_the_interpreter(name, fn, specs):
    rng = np.random.default_rng(3)
    graph = tg.trace(fn, specs)
    check(graph, *[normal(rng, s.shape, s.np_dtype) for s in specs])


def test_bf16_matmul_is_a_vectorized_contraction(monkeypatch):
    """The matmul strategy's register tiles (f32 outer products carried across the k loop) read
    the bf16 operands as vectors and extend them in registers; nothing rounds the f32 result."""
    monkeypatch.setenv("TGRAPH_VECTOR_WIDTH", "8")
    f = tg.compile_out(lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[64, 128], tg.bf16[128, 96]])
    vector = f.ir("vector")
    assert "linalg.matmul" not in vector and "linalg.generic" not in vector
    assert re.search(r"arith.extf %\S+ : vector<\d+xbf16> to vector<\d+xf32>", vector)
    assert re.search(r"vector.outerproduct .* : vector<\d+xf32>, vector<\d+xf32>", vector)
    assert "truncf" not in vector


# ----------------------------------------------------------------------------- derivatives
@pytest.fixture(scope="module")
def mlp():
    """(the bf16 loss, the same loss in f32, bf16 inputs)"""
    low = tg.trace(mlp_loss, [tg.TensorSpec(s, "bf16") for s in MLP_SHAPES])
    wide = tg.trace(mlp_loss, [tg.TensorSpec(s, "f32") for s in MLP_SHAPES])
    return low, wide, mlp_inputs(np.random.default_rng(4), BF16)


def test_vjp_rounds_the_cotangent_to_the_operands_type(mlp):
    """A bf16 weight's gradient is bf16: the f32 cotangent of each matmul is rounded to bf16 and the
    transposed matmuls (summed in f32, rounded) have no preferred type; it is the f32 gradient of the
    upcast inputs, within bf16's precision."""
    low, wide, args = mlp
    grad = tg.grad(low, wrt=[0, 1, 2])
    text = grad.ir()
    body = text[text.index("@mlp_loss_grad"):text.index("@mlp_loss_value_and_grad")]
    # The output layer's f32 cotangent (the forward pass casts nothing of its shape), rounded to bf16.
    assert re.search(r'"tg.cast"\(%\S+\) \{dtype = bf16\} : \(tensor<8x4xf32>\) -> tensor<8x4xbf16>', body)
    transposed = re.findall(r'"tg.dot_general"\([^)]*\) \{([^}]*)\} : \([^)]*\) -> (tensor<\S+>)', body)
    assert sum("preferred_element_type" in attrs for attrs, _ in transposed) == 2  # the forward matmuls only
    got = grad(*args)
    want = tg.grad(wide, wrt=[0, 1, 2])(*upcast(args))
    for g, w in zip(got, want):
        assert g.dtype == BF16
        assert_close_relative(g, w, BF16_TOL)


def test_jvp_tangents_flow_in_the_preferred_type(mlp):
    low, wide, args = mlp
    rng = np.random.default_rng(5)
    tangents = [normal(rng, np.shape(a), BF16) for a in args]
    y, dy = tg.jvp(low, wrt=[0, 1, 2])(*args, *tangents)
    assert y.dtype == np.float32 and dy.dtype == np.float32
    text = tg.jvp(low, wrt=[0, 1, 2]).ir()
    body = text[text.index("@mlp_loss_jvp"):]
    tangent_terms = re.findall(r'"tg.dot_general".*preferred_element_type = f32.*-> tensor<8x12xf32>', body)
    assert len(tangent_terms) == 3  # the primal product and one term per operand's tangent
    y32, dy32 = tg.jvp(wide, wrt=[0, 1, 2])(*upcast(args), *upcast(tangents))
    assert_close_relative(y, y32, BF16_TOL)
    assert_close_relative(dy, dy32, BF16_TOL)


def test_order_2_through_bf16_matmuls(mlp):
    """Forward over reverse (hvp) and reverse over reverse (the gradient of the squared gradient):
    the derivative code of the casts and of the transposed matmuls is differentiated again."""
    low, wide, args = mlp
    rng = np.random.default_rng(6)
    v = [normal(rng, np.shape(a), BF16) for a in args[1:]]
    hv = tg.hvp(low, wrt=[1, 2])(*args, *v)
    hv32 = tg.hvp(wide, wrt=[1, 2])(*upcast(args), *upcast(v))
    for h, w in zip(hv, hv32):
        assert h.dtype == BF16
        assert_close_relative(h, w, 3 * BF16_TOL)

    def gradient_norm(x, w1, w2):
        g1, g2 = tg.grad(mlp_loss, wrt=(1, 2))(x, w1, w2)
        return tg.sum(g1.astype(tg.f32) ** 2) + tg.sum(g2.astype(tg.f32) ** 2)

    got = tg.grad(gradient_norm, wrt=(1, 2))(*args)
    want = tg.grad(gradient_norm, wrt=(1, 2))(*upcast(args))
    for g, w in zip(got, want):
        assert g.dtype == BF16
        assert_close_relative(g, w, 3 * BF16_TOL)


def f64_loss(x, w, v):
    """f32 operands, sums in f64, an f64 loss."""
    h = tg.tanh(tg.matmul(x, w, preferred_element_type="f64"))
    return tg.sum(h * tg.matmul(x, v, preferred_element_type="f64"))


def test_f32_operands_summed_in_f64_to_tight_tolerance():
    """JVP: f32 tangents, f64 tangent terms: the f64 function's JVP exactly (products of f32 values
    are exact in f64). VJP: the f64 cotangent rounded to f32, an f32 gradient: the f64 gradient to
    f32 precision. Order 2 likewise."""
    specs32 = [tg.f32[5, 7], tg.f32[7, 3], tg.f32[7, 3]]
    mixed = tg.trace(f64_loss, specs32)
    wide = tg.trace(f64_loss, [tg.TensorSpec(s.shape, "f64") for s in specs32])
    assert mixed.output_specs == [tg.f64[()]]
    rng = np.random.default_rng(7)
    args = [normal(rng, s.shape, np.float32) for s in specs32]
    tangents = [normal(rng, s.shape, np.float32) for s in specs32]
    y, dy = tg.jvp(mixed, wrt=[0, 1, 2])(*args, *tangents)
    y64, dy64 = tg.jvp(wide, wrt=[0, 1, 2])(*upcast(args, np.float64), *upcast(tangents, np.float64))
    np.testing.assert_allclose([y, dy], [y64, dy64], rtol=1e-12)
    grads = tg.grad(mixed, wrt=[0, 1, 2])(*args)
    grads64 = tg.grad(wide, wrt=[0, 1, 2])(*upcast(args, np.float64))
    for g, w in zip(grads, grads64):
        assert g.dtype == np.float32
        assert_close_relative(g, w, 1e-6)
    hv = tg.hvp(mixed, wrt=[1, 2])(*args, *tangents[1:])
    hv64 = tg.hvp(wide, wrt=[1, 2])(*upcast(args, np.float64), *upcast(tangents[1:], np.float64))
    for h, w in zip(hv, hv64):
        assert h.dtype == np.float32
        assert_close_relative(h, w, 1e-5)


def test_conv2d_derivatives():
    def loss(x, w):
        return tg.mean(tg.tanh(tg.conv2d(x, w, stride=2, padding=1, preferred_element_type="f32")) ** 2)

    specs = [tg.bf16[2, 3, 7, 7], tg.bf16[4, 3, 3, 3]]
    low = tg.trace(loss, specs)
    wide = tg.trace(loss, [tg.TensorSpec(s.shape, "f32") for s in specs])
    rng = np.random.default_rng(8)
    args = [normal(rng, s.shape, BF16) for s in specs]
    grads, grads32 = tg.grad(low, wrt=[0, 1])(*args), tg.grad(wide, wrt=[0, 1])(*upcast(args))
    for g, w in zip(grads, grads32):
        assert g.dtype == BF16
        assert_close_relative(g, w, BF16_TOL)
    tangents = [normal(rng, s.shape, BF16) for s in specs]
    _, dy = tg.jvp(low, wrt=[0, 1])(*args, *tangents)
    _, dy32 = tg.jvp(wide, wrt=[0, 1])(*upcast(args), *upcast(tangents))
    assert dy.dtype == np.float32
    assert_close_relative(dy, dy32, BF16_TOL)
    hv = tg.hvp(low, wrt=[1])(*args, tangents[1])
    hv32 = tg.hvp(wide, wrt=[1])(*upcast(args), upcast(tangents[1:])[0])
    assert_close_relative(hv, hv32, 3 * BF16_TOL)


def test_compiled_gradient_matches_the_interpreter(mlp):
    low, _, args = mlp
    value, grads = tg.compile_scalar(mlp_loss, [tg.TensorSpec(s, "bf16") for s in MLP_SHAPES]).value_and_grad(*args)
    want_value, *want_grads = tg.value_and_grad(low, wrt=[0, 1, 2])(*args)
    np.testing.assert_allclose(value, want_value, rtol=1e-5)
    for g, w in zip(grads, want_grads):
        assert np.asarray(g).dtype == BF16
        assert_close_relative(g, w, BF16_TOL)


def test_gradient_through_the_gpu_kernels_on_cpu(mlp):
    """The value and gradient of the bf16 MLP through tg-gpu-kernels (the contraction kernels on
    bf16 operands into f32, and on the bf16 cotangents), run on the CPU."""
    low, _, args = mlp
    check(tg.value_and_grad(low, wrt=[0, 1, 2]), *args,
          compile=lambda graph: CpuExecutable(graph, pipeline="tg-gpu-kernels-on-cpu"))


@pytest.mark.skipif(ptx.ptxas_path() is None, reason="ptxas not found (install tgraph[cuda] or a CUDA toolkit)")
def test_gpu_contraction_kernels_assemble_for_sm90(mlp):
    """bf16 tiles staged in workgroup memory, f32 accumulators: the PTX of a large matmul and of the
    MLP's value and gradient is accepted by ptxas."""
    low, _, _ = mlp
    matmul = tg.trace(lambda a, b: tg.matmul(a, b, preferred_element_type="f32"), [tg.bf16[70, 40], tg.bf16[40, 130]])
    for graph in (matmul, tg.value_and_grad(low, wrt=[0, 1, 2])):
        exe = CudaExecutable(graph)
        assert ptx.assemble(exe.ptx, 90)
    assert ".shared" in CudaExecutable(matmul).ptx


# ----------------------------------------------------------------------------- vmap
@pytest.mark.parametrize("in_axes", [(0, None), (None, 0), (0, 0)], ids=["lhs", "rhs", "both"])
def test_vmap_keeps_the_preferred_type(in_axes):
    rng = np.random.default_rng(9)
    x = normal(rng, (5, 4, 6) if in_axes[0] == 0 else (4, 6), BF16)
    w = normal(rng, (5, 6, 3) if in_axes[1] == 0 else (6, 3), BF16)
    fn = tg.vmap(lambda x, w: tg.matmul(x, w, preferred_element_type="f32"), in_axes=in_axes)
    got = fn(x, w)
    assert got.dtype == np.float32 and "preferred_element_type = f32" in fn.graph(x, w).ir()
    lanes = [np.matmul((x[b] if in_axes[0] == 0 else x).astype(np.float64), (w[b] if in_axes[1] == 0 else w).astype(np.float64))
             for b in range(5)]
    np.testing.assert_allclose(got, np.stack(lanes), rtol=1e-6, atol=1e-6)


def test_vmap_of_per_example_gradients_of_conv2d():
    """Per-example gradients: vmap of the gradient of a conv2d summed in f32."""
    def loss(x, w):
        return tg.sum(tg.tanh(tg.conv2d(x[None], w, padding=1, preferred_element_type="f32")))

    rng = np.random.default_rng(10)
    xs, w = normal(rng, (3, 2, 5, 5), BF16), normal(rng, (4, 2, 3, 3), BF16)
    got = tg.vmap(tg.grad(loss, wrt=1), in_axes=(0, None))(xs, w)
    assert got.dtype == BF16 and got.shape == (3, 4, 2, 3, 3)
    for b in range(3):
        assert_close_relative(got[b], tg.grad(loss, wrt=1)(xs[b], w), BF16_TOL)
