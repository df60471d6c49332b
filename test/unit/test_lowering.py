"""The CPU backend against the reference interpreter: every op-table case through tg-to-linalg,
tg-cpu-pipeline and the JIT; the edge cases that random inputs do not reach (NaN, infinities,
saturation, clamped indices, cropping, empty reductions, f16/bf16 rounding, bit-exact random
numbers); composite models; and CpuExecutable's handling of its arguments."""

import warnings

import numpy as np
import pytest

import tgraph as tg
from tgraph.backends.cpu import CpuExecutable
from tgraph.dialect import ALL_OPS, OPS
from tgraph.passes.lowering import RULES
from tgraph.passes.cpu.tg_approximate_math import EXPANSIONS
from tgraph.passes.tg_simplify import FOLDABLE
from tgraph.support.target import native_vector_width
import op_table
from op_table import CASES

RTOL = {"f16": 1e-3, "bf16": 1e-2, "f32": 1e-5, "f64": 1e-12}
EXACT = ("i1", "i32", "i64")


def check(graph, *args, exact=False, compile=CpuExecutable):
    """Run graph compiled by `compile` and in the interpreter; the results must agree (NaN where NaN)."""
    with warnings.catch_warnings():  # the reference's casts of special values warn (overflow to inf)
        warnings.simplefilter("ignore", RuntimeWarning)
        want = graph(*args)
    want = list(want) if isinstance(want, tuple) else [want]
    before = [np.asarray(a).tobytes() for a in args]
    got = compile(graph)(*args)
    # The compiled code reads its inputs in place: it must never write them.
    assert [np.asarray(a).tobytes() for a in args] == before
    assert len(got) == len(want) == len(graph.output_specs)
    for i, (spec, g, w) in enumerate(zip(graph.output_specs, got, want)):
        assert g.dtype == spec.np_dtype and g.shape == spec.shape, f"output {i}"
        if spec.dtype in EXACT:
            np.testing.assert_array_equal(g, w, err_msg=f"output {i}")
        elif exact:  # compared in f64, where f16/bf16 NaNs are recognized
            np.testing.assert_array_equal(g.astype(np.float64), w.astype(np.float64), err_msg=f"output {i}")
        else:
            tol = RTOL[spec.dtype]
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=tol, atol=tol,
                                       err_msg=f"output {i}")
    return got


def test_every_op_has_a_lowering_rule():
    assert [op for op in ALL_OPS if op not in RULES] == []
    assert [op for op in RULES if op not in ALL_OPS] == []


def test_every_op_record_is_complete():
    """The facts downstream tables are derived from: elementwise ops have a scalar body (and no
    second rule), arithmetic ones are foldable and have their public builder; the expansions
    tg-approximate-math derives from the records are for math ops."""
    for name, opdef in OPS.items():
        assert opdef.float_body is None or opdef.lowering is None, f"tg.{name} has a body and a rule"
        if opdef.family == "elementwise":
            assert opdef.float_body is not None, f"tg.{name} has no scalar body"
            assert opdef.foldable == (name not in ("compare", "select")), f"tg.{name}: foldable"
        if opdef.public:
            assert getattr(tg, opdef.public).__name__ == opdef.public, name
        assert all(k.startswith("math.") for k in opdef.approximations), name
    assert {n for n, o in OPS.items() if o.foldable} == FOLDABLE
    assert set(EXPANSIONS) >= {k for o in OPS.values() for k in o.approximations}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_op_table_case_on_cpu(case):
    graph = tg.trace(case.fn, case.specs)
    check(graph, *case.make_inputs(np.random.default_rng(0)), exact=case.op in ("random_uniform", "bernoulli"))


@pytest.mark.parametrize("width", [4, 8, 16])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_op_table_case_at_forced_vector_width(case, width, monkeypatch):
    """The codegen (and LLVM's instruction set, below the host's width) of a CPU with `width` f32
    lanes, whatever CPU runs the tests: a bug only a smaller or larger vector unit shows is caught here.
    The host's own width is test_op_table_case_on_cpu, not compiled twice."""
    if width == native_vector_width():
        pytest.skip(f"width {width} is this host's: test_op_table_case_on_cpu runs it")
    monkeypatch.setenv("TGRAPH_VECTOR_WIDTH", str(width))
    graph = tg.trace(case.fn, case.specs)
    check(graph, *case.make_inputs(np.random.default_rng(0)), exact=case.op in ("random_uniform", "bernoulli"))


def test_forced_vector_width_reaches_the_codegen_and_the_instruction_set(monkeypatch):
    graph = tg.trace(lambda x, y: tg.tanh(x * y), [tg.f32[8, 64]] * 2)
    logs = {}
    for width in (4, 16):
        monkeypatch.setenv("TGRAPH_VECTOR_WIDTH", str(width))
        records = []
        CpuExecutable(graph, log=lambda stage, name, op: records.append((name, op.get_asm())))
        logs[width] = dict(records)
    vector = {w: logs[w]["tg-erase-transform-scripts"] for w in logs}
    # Rows are vectorized four vectors at a time.
    assert "vector<16xf32>" in vector[4] and "vector<64xf32>" not in vector[4]
    assert "vector<64xf32>" in vector[16]
    if native_vector_width() > 4:  # below the host's width, AVX is turned off
        assert '"-avx"' in logs[4]["tg-limit-vector-isa{vector-width=4}"]
    monkeypatch.setenv("TGRAPH_VECTOR_WIDTH", "12")
    with pytest.raises(tg.TGraphError, match="TGRAPH_VECTOR_WIDTH='12': use one of 4, 8, 16"):
        CpuExecutable(graph)


# ----------------------------------------------------------------------------- edge cases
SPECIALS = [0.0, -0.0, 1.0, -1.5, 2.5, np.nan, np.inf, -np.inf, 1e-30, 30.0, -100.0, 700.0]
UNARY = tuple(fn for fn, _, _ in op_table.UNARY.values())  # every unary op of the op table


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16", "bf16"])
def test_unary_special_values(dtype):
    x = np.array(SPECIALS).astype(tg.TensorSpec((), dtype).np_dtype)
    check(tg.trace(lambda x: tuple(f(x) for f in UNARY), [x]), x)


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16"])
def test_binary_special_values(dtype):
    x = np.array(SPECIALS).astype(tg.TensorSpec((), dtype).np_dtype)
    y = np.roll(x, 5)
    fns = (lambda x, y: x / y, lambda x, y: x ** y, tg.maximum, tg.minimum, tg.less, tg.less_equal, tg.greater,
           tg.greater_equal, tg.equal, tg.not_equal)
    check(tg.trace(lambda x, y: tuple(f(x, y) for f in fns), [x, y]), x, y)


def test_integer_wraparound_and_extremes():
    info = np.iinfo(np.int32)
    x = np.array([info.min, -7, -1, 0, 1, 7, info.max], np.int32)
    y = np.roll(x, 3)
    check(tg.trace(lambda x, y: (-x, tg.abs(x), tg.relu(x), x + y, x * y, x - y, tg.sum(x), x < y), [x, y]), x, y)


def test_bool_comparisons_are_unsigned():
    x, y = np.array([0, 0, 1, 1], bool), np.array([0, 1, 0, 1], bool)
    fns = (tg.less, tg.less_equal, tg.greater, tg.greater_equal, tg.equal, tg.not_equal)
    check(tg.trace(lambda x, y: tuple(f(x, y) for f in fns), [x, y]), x, y)


def test_casts_truncate_saturate_and_round_as_the_reference():
    f = np.array([0.0, -0.0, 2.7, -2.7, 1e10, -1e10, np.nan, np.inf, -np.inf, 1e-40, 65520.0, 3e38], np.float32)
    d = np.array([1 + 2.0 ** -8 + 2.0 ** -30, 1 + 2.0 ** -11 + 2.0 ** -40, -3.5, -1e300, np.nan], np.float64)
    i = np.array([np.iinfo(np.int64).min, -(2 ** 40) - 1, -1, 0, 3, 2 ** 40 + 1], np.int64)
    b = np.array([True, False, True], bool)
    graph = tg.trace(lambda f, d, i, b: (
        f.astype(tg.i32), f.astype(tg.bool_), f.astype(tg.f16), f.astype(tg.bf16), f.astype(tg.f64),
        d.astype(tg.f16), d.astype(tg.bf16), d.astype(tg.f32), d.astype(tg.i32), d.astype(tg.i64),
        f.astype(tg.f16).astype(tg.bf16), f.astype(tg.bf16).astype(tg.f16),
        i.astype(tg.i32), i.astype(tg.f32), i.astype(tg.f16), i.astype(tg.bool_),
        b.astype(tg.f32), b.astype(tg.i64), b.astype(tg.bf16)), [f, d, i, b])
    check(graph, f, d, i, b, exact=True)


def _nearest_even(x, dtype):
    """x rounded once, to nearest with ties to even, by search over every finite value of dtype
    (an exact reference: no conversion instruction or library cast involved)."""
    every = np.arange(1 << 16, dtype=np.uint16).view(dtype)
    finite = np.unique(every[np.isfinite(every)].astype(np.float64))  # sorted; one zero (-0 == 0)
    big = np.float64(finite[-1]) + (finite[-1] - finite[-2]) / 2  # at or above: inf
    out = []
    for v in x:
        if np.isnan(v) or abs(v) >= big:
            out.append(np.nan if np.isnan(v) else np.copysign(np.inf, v))
            continue
        j = np.searchsorted(finite, v)
        lo, hi = finite[max(j - 1, 0)], finite[min(j, len(finite) - 1)]
        if v - lo != hi - v:
            out.append(lo if v - lo < hi - v else hi)
        else:
            out.append(lo if np.array(lo, np.float64).astype(dtype).view(np.uint16) % 2 == 0 else hi)
    return np.copysign(np.array(out, np.float64), x)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_f64_rounds_once_to_f16_and_bf16(dtype):
    """Halfway points between neighbours, and points just off them by less than an f32 ulp: a
    conversion through f32 rounds these twice and gets ties wrong."""
    target = tg.support.dtypes.to_numpy(dtype)
    every = np.arange(1 << 16, dtype=np.uint16).view(target)
    values = np.unique(every[np.isfinite(every)].astype(np.float64))
    rng = np.random.default_rng(3)
    lo = rng.choice(values[:-1], 300)
    hi = values[np.searchsorted(values, lo) + 1]
    mid = (lo + hi) / 2
    off = (hi - lo) * 2.0 ** -rng.integers(20, 45, len(mid))
    x = np.concatenate([mid, mid + off, mid - off, [1 + 2.0 ** -8 + 2.0 ** -30, 3.4e38, 1e300, 5e-324, np.nan]])
    graph = tg.trace(lambda x: x.astype(getattr(tg, dtype)), [x])
    want = _nearest_even(x, target)
    (got,) = CpuExecutable(graph)(x)
    np.testing.assert_array_equal(got.astype(np.float64), want)
    np.testing.assert_array_equal(graph(x).astype(np.float64), want)


def test_cast_to_i64_saturates_at_both_ends():
    x = np.array([1e30, 2.0 ** 63, -2.0 ** 63, -1e30, np.nan, np.inf], np.float64)
    graph = tg.trace(lambda x: x.astype(tg.i64), [x])
    (got,) = CpuExecutable(graph)(x)
    info = np.iinfo(np.int64)
    np.testing.assert_array_equal(got, [info.max, info.max, info.min, info.min, 0, info.max])
    np.testing.assert_array_equal(graph(x), got)


def test_reductions_of_nan_and_of_nothing():
    x = np.array([[1.0, np.nan, 3.0], [4.0, -np.inf, 2.0]], np.float32)
    check(tg.trace(lambda x: (tg.max(x, axis=1), tg.max(x, axis=0), tg.sum(x, axis=1)), [x]), x)
    for spec in (tg.f32[3, 0], tg.i32[3, 0], tg.f16[0, 2]):
        empty = np.zeros(spec.shape, spec.np_dtype)
        check(tg.trace(lambda x: (tg.max(x, axis=1), tg.sum(x, axis=1)), [spec]), empty)


def test_indices_out_of_range_are_clamped():
    table = np.arange(12, dtype=np.float32).reshape(3, 4)
    idx = np.array([[-3, 0], [2, 9]], np.int64)
    updates = np.random.default_rng(1).standard_normal((2, 2, 4)).astype(np.float32)
    check(tg.trace(lambda t, i, u: (tg.embedding(i, t), tg.scatter_add(i, u, rows=3)), [table, idx, updates]),
          table, idx, updates)


def test_pad_crops_into_interior_padding():
    x = np.arange(12, dtype=np.int32).reshape(4, 3)
    check(tg.trace(lambda x: (tg.pad(x, [(-2, 1), (1, -3)], interior=(1, 1), value=-1.5),
                              tg.pad(x, [(-9, 2), (0, 0)], interior=(1, 0))), [x]), x)
    f = np.arange(5, dtype=np.float16)
    check(tg.trace(lambda f: tg.pad(f, [(-1, 3)], interior=(2,), value=0.1), [f]), f)


def _emit(opname, *operands, **attrs):
    return operands[0].trace.emit(opname, list(operands), **attrs)


@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_conv2d_with_input_dilation_cropping_and_groups(dtype):
    rng = np.random.default_rng(2)
    np_dtype = tg.TensorSpec((), dtype).np_dtype
    x = rng.standard_normal((2, 4, 6, 5)).astype(np_dtype)
    w = rng.standard_normal((6, 2, 3, 2)).astype(np_dtype)
    graph = tg.trace(lambda x, w: _emit("conv2d", x, w, stride=(2, 1), padding=(-1, 2, 1, 0), lhs_dilation=(2, 1),
                                        rhs_dilation=(1, 2), groups=2), [x, w])
    check(graph, x, w)


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_pools_with_padding_and_cropping(dtype):
    x = np.random.default_rng(3).standard_normal((1, 2, 7, 6)).astype(tg.TensorSpec((), dtype).np_dtype)
    x[0, 0, 1, 1] = np.nan
    window = dict(kernel=(3, 2), stride=(2, 2), padding=(1, -1, 2, 0))
    check(tg.trace(lambda x: (_emit("max_pool2d", x, **window), _emit("avg_pool2d", x, **window)), [x]), x)


@pytest.mark.parametrize("dtype", ["f32", "f64", "f16", "bf16"])
def test_random_numbers_are_bit_exact(dtype):
    graph = tg.trace(lambda k32, k64: (tg.uniform(k32, (33, 17), dtype), tg.uniform(k64, (5,), dtype),
                                       tg.bernoulli(k32, 0.3, (40, 9)), tg.bernoulli(k64, 0.0, (7,)),
                                       tg.bernoulli(k64, 1.0, (7,))), [tg.i32[()], tg.i64[()]])
    check(graph, np.int32(-7), np.int64(2 ** 40 + 5), exact=True)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_low_precision_data_movement_and_max_are_exact(dtype):
    x = np.random.default_rng(7).standard_normal((1, 2, 4, 4)).astype(tg.TensorSpec((), dtype).np_dtype)
    x[0, 0, 0, 0] = np.nan
    graph = tg.trace(lambda x: (
        tg.max(x, axis=3), tg.max_pool2d(x, 2), tg.where(x > 0, x, -x), x == x, tg.flip(x, 3),
        tg.transpose(x, (3, 2, 1, 0)), tg.concatenate([x, x], axis=1), x[:, :, 1:3], tg.reshape(x, (8, 4)),
        tg.pad(x, [(0, 0), (0, 0), (1, 1), (0, 0)], value=2.0), tg.broadcast_to(x[:, :1], (1, 2, 4, 4)),
        tg.embedding(np.array([1, 0]), tg.reshape(x, (8, 4)))), [x])
    check(graph, x, exact=True)


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_low_precision_accumulates_in_f32(dtype):
    rng = np.random.default_rng(4)
    np_dtype = tg.TensorSpec((), dtype).np_dtype
    a, b = rng.standard_normal((3, 40)).astype(np_dtype), rng.standard_normal((40, 5)).astype(np_dtype)
    c = rng.standard_normal((2, 3, 40)).astype(np_dtype)
    idx = np.array([0, 1, 0], np.int32)
    graph = tg.trace(lambda a, b, c, idx: (
        tg.sum(a, axis=1), a @ b, c @ b, tg.dot_general(a, c, contracting=((1,), (2,))),
        tg.scatter_add(idx, a, rows=2), tg.mean(a), tg.softplus(a) / tg.sigmoid(a) ** a), [a, b, c, idx])
    check(graph, a, b, c, idx)


# ----------------------------------------------------------------------------- results and arguments
ROW_GROUPS = [
    ("softmax", lambda x, g, b: tg.softmax(x, axis=-1)),
    ("log_softmax", lambda x, g, b: tg.log_softmax(x, axis=-1)),
    ("layer_norm", lambda x, g, b: tg.layer_norm(x, g, b)),
    ("centered_square_sum", lambda x, g, b: tg.tanh(x - tg.sum(x * x, axis=1, keepdims=True) / 100.0) * g),
]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name, fn", ROW_GROUPS, ids=[n for n, _ in ROW_GROUPS])
def test_row_groups_fused_over_blocks_of_rows(name, fn, threads):
    """Large enough for threads over rows and blocks of 8 rows (tg-plan-cpu-codegen's row groups)."""
    specs = [tg.f32[512, 384], tg.f32[384], tg.f32[384]]
    rng = np.random.default_rng(3)
    check(tg.trace(fn, specs), *[rng.standard_normal(s.shape).astype(np.float32) for s in specs],
          compile=lambda g: CpuExecutable(g, threads=threads))


def test_several_results_scalars_and_aliases_come_back_as_fresh_arrays():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    s = np.float32(2.5)
    graph = tg.trace(lambda x, s: (x, x * s, tg.sum(x), s, x, x[:, 1:], tg.constant(np.arange(3.0), like=x)),
                     [x, s])
    got = check(graph, x, s)
    for i, out in enumerate(got):
        assert not np.shares_memory(out, x), f"output {i} aliases the input"
        assert out.flags.owndata and out.flags.c_contiguous
    assert not np.shares_memory(got[0], got[4])


def test_inputs_are_used_in_place_or_converted():
    graph = tg.trace(lambda x, s: x * s, [tg.f32[2, 3], tg.f32[()]])
    exe = CpuExecutable(graph)
    base = np.arange(6, dtype=np.float32).reshape(3, 2)
    (got,) = exe(base.T, 2)  # a transposed view (copied) and a Python int (cast)
    np.testing.assert_array_equal(got, base.T * 2)
    (got,) = exe([[1, 2, 3], [4, 5, 6]], np.float64(0.5))
    np.testing.assert_array_equal(got, [[0.5, 1, 1.5], [2, 2.5, 3]])


def test_module_text_and_function_choice():
    text = """
    func.func @double(%x: tensor<3xf32>) -> tensor<3xf32> {
      %0 = "tg.add"(%x, %x) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
      return %0 : tensor<3xf32>
    }
    func.func @exp(%x: tensor<3xf32>) -> tensor<3xf32> {
      %0 = "tg.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
      %1 = func.call @double(%0) : (tensor<3xf32>) -> tensor<3xf32>
      return %1 : tensor<3xf32>
    }"""
    x = np.array([0.0, 1.0, -2.0], np.float32)
    # A function named like a libm one (and calling another) must not capture libm's calls.
    (got,) = CpuExecutable(text, "exp")(x)
    np.testing.assert_allclose(got, 2 * np.exp(x), rtol=1e-6)
    np.testing.assert_array_equal(CpuExecutable(text)(x)[0], 2 * x)


def test_inputs_are_never_written():
    # A function that updates its argument's tensor: bufferization must copy, not write the caller's array.
    text = """
    func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
      %c = arith.constant 7.0 : f32
      %i = arith.constant 1 : index
      %r = tensor.insert %c into %x[%i] : tensor<3xf32>
      return %r : tensor<3xf32>
    }"""
    x = np.zeros(3, np.float32)
    (got,) = CpuExecutable(text)(x)
    np.testing.assert_array_equal(got, [0, 7, 0])
    np.testing.assert_array_equal(x, [0, 0, 0])


def test_the_callers_module_is_not_changed():
    graph = tg.trace(lambda x: tg.tanh(x), [tg.f32[4]])
    before = graph.ir()
    CpuExecutable(graph)
    assert graph.ir() == before


@pytest.mark.parametrize("args, message", [
    ((np.zeros((2, 3), np.float32),), "@main: expected 2 inputs, got 1"),
    ((np.zeros((3, 2), np.float32), np.float32(1)), r"input 0 must have shape \(2, 3\) \(tensor<2x3xf32>\), got shape \(3, 2\)"),
    ((np.zeros((2, 3), np.complex64), np.float32(1)), r"input 0 must be tensor<2x3xf32> \(float32\), got an array of complex64"),
    ((np.zeros((2, 3), np.float32), np.int64(1), 3), "expected 2 inputs, got 3"),
])
def test_bad_arguments_raise_instead_of_crashing(args, message):
    exe = CpuExecutable(tg.trace(lambda x, s: x * s, [tg.f32[2, 3], tg.f32[()]]))
    with pytest.raises(tg.TGraphError, match=message):
        exe(*args)


def test_bad_modules_raise():
    with pytest.raises(tg.TGraphError, match="no function @g"):
        CpuExecutable(tg.trace(lambda x: -x, [tg.f32[2]]), "g")
    with pytest.raises(tg.TGraphError, match="cannot parse"):
        CpuExecutable("func.func @f(")
    with pytest.raises(tg.TGraphTypeError, match="needs tg IR text"):
        CpuExecutable(42)
    unlowerable = """
    func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
      %m = memref.alloc() : memref<3xf32>
      return %x : tensor<3xf32>
    }"""
    with pytest.raises(tg.TGraphError, match="failed to legalize operation 'memref.alloc'"):
        CpuExecutable(unlowerable)


# ----------------------------------------------------------------------------- composite models
def _mlp_loss(x, labels, w1, b1, w2, b2):
    hidden = tg.gelu(tg.layer_norm(x @ w1 + b1))
    return tg.cross_entropy(tg.relu(hidden) @ w2 + b2, labels)


def _mlp_inputs(rng):
    return [rng.standard_normal((8, 20)).astype(np.float32), rng.integers(0, 5, 8).astype(np.int32),
            (rng.standard_normal((20, 16)) * 0.3).astype(np.float32), np.zeros(16, np.float32),
            (rng.standard_normal((16, 5)) * 0.3).astype(np.float32), np.zeros(5, np.float32)]


def test_mlp_loss_and_its_gradient():
    args = _mlp_inputs(np.random.default_rng(5))
    loss = tg.trace(_mlp_loss, args)
    check(loss, *args)
    check(tg.value_and_grad(loss, wrt=(2, 3, 4, 5)), *args)


def test_convnet_forward():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 3, 12, 12)).astype(np.float32), rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    b, dense = rng.standard_normal(8).astype(np.float32), rng.standard_normal((8 * 6 * 6, 10)).astype(np.float32)

    def net(x, w, b, dense):
        features = tg.max_pool2d(tg.relu(tg.conv2d(x, w, b, padding=1)), 2)
        return tg.softmax(tg.reshape(features, (2, -1)) @ dense)

    check(tg.trace(net, [x, w, b, dense]), x, w, b, dense)


# ----------------------------------------------------------------------------- results with no op of their own
RESULT_SHARING = [
    ("repeated", lambda x: (tg.tanh(x), tg.tanh(x))),
    ("argument_twice", lambda x: (x, x, tg.tanh(x))),
    ("constant", lambda x: (tg.sum(x), tg.zeros_like(x))),
]


@pytest.mark.parametrize("fn", [f for _, f in RESULT_SHARING], ids=[n for n, _ in RESULT_SHARING])
def test_results_that_share_a_value_get_buffers_of_their_own(fn):
    x = np.linspace(-1, 1, 4).astype(np.float32)
    got = check(tg.trace(fn, [tg.f32[4]]), x)
    assert len({id(g) for g in got}) == len(got) and not any(np.shares_memory(a, b) for a in got for b in got if a is not b)


def test_gradients_that_cse_merges_compile():
    """x + a + b: the three gradients are one value after CSE (a ResNet block's batch-norm shifts)."""
    step = tg.compile_scalar(lambda x, a, b: tg.sum(tg.tanh(x + a + b)), [tg.f32[4]] * 3)
    xs = [np.linspace(-1, 1, 4).astype(np.float32)] * 3
    value, grads = step.value_and_grad(*xs)
    want = 1 - np.tanh(3 * xs[0].astype(np.float64)) ** 2
    for g in grads:
        np.testing.assert_allclose(g, want, rtol=1e-5)
    assert not np.shares_memory(grads[0], grads[1])
