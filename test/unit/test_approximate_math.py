"""tg-approximate-math: the arith expansions of math ops, compiled through the tail of the CPU
pipeline with the pass just before arith-expand, on scalars and on vector<16xf32>. Errors are in
ulps of f32 against numpy's f64 functions; special values must match numpy exactly (signed zeros
included). Then tg functions through the whole CPU pipeline plus the pass: no libm call is left."""

import ctypes
import math
import warnings
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

import tgraph as tg
import op_table
from tgraph import dialect
from tgraph.support.mlir import execution_engine, ir
from tgraph.passes import build_pass_manager
from tgraph.passes.pipeline import expand, parse_pipeline
from tgraph.dialect.approximations import TWO_OVER_PI_BITS
from tgraph.passes.cpu.tg_approximate_math import EXPANSIONS

PASS = "tg-approximate-math"
REFERENCE = {"exp": np.exp, "expm1": np.expm1, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
             "sin": np.sin, "cos": np.cos, "erf": np.vectorize(math.erf, otypes=[np.float64])}
# Maxima over all 2^32 inputs (FMA contracted; sampled without FMA: the same to 0.1 ulp): exp 1.01,
# expm1 1.44, log 0.83, log1p 1.44, tanh 1.33, sin 1.58 and cos 1.57 ulp (sin and cos for
# |x| < 8.4e8; beyond, on the samples below, 1.55).
MAX_ULPS = {"exp": 1.5, "expm1": 2.0, "log": 1.5, "log1p": 2.0, "tanh": 2.0, "sin": 2.0, "cos": 2.0, "erf": 1.5}


def test_every_expansion_has_a_reference():
    """Every unary expansion tg-approximate-math applies (the op records' included) is measured below."""
    assert {name[len("math."):] for name in EXPANSIONS} - {"powf"} == set(REFERENCE)
SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-45, -1e-45, 1e-30, -1e-30, 0.625, -0.625,
                     9.0, 10.0, -20.0, 88.72, 88.73, -87.4, -103.9, -104.0, -18.0, 3.4e38, -3.4e38], np.float32)


def pipeline(with_pass=True):
    """tg-cpu-pipeline's passes, with or without tg-approximate-math (just before arith-expand)."""
    return [element for name, _, element in expand(parse_pipeline("tg-cpu-pipeline")) if with_pass or name != PASS]


def lowering_tail(outlined=False):
    """The pipeline from convert-scf-to-cf on: what loops over memrefs and vectors need; `outlined`:
    every sin/cos calls its outlined function (as in a block with many of them)."""
    elements = pipeline()
    if outlined:
        elements = [f"{PASS}{{outline-above=0}}" if e == PASS else e for e in elements]
    return elements[next(i for i, e in enumerate(elements) if e.startswith("convert-scf-to-cf")):]


class Descriptor(ctypes.Structure):  # a rank-1 memref descriptor
    _fields_ = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64),
                ("size", ctypes.c_int64), ("stride", ctypes.c_int64)]


class Jitted:
    """A module's function `name` through `passes` and the JIT, called on 1-D arrays; the last one is
    the output (the function's out-parameter)."""

    def __init__(self, text, passes, name="kernel"):
        with dialect.context():
            module = ir.Module.parse(text)
            build_pass_manager(passes).run(module.operation)
            self.llvm_dialect = str(module)
            self.engine = execution_engine.ExecutionEngine(module, opt_level=3)
        self.entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self.engine.raw_lookup("_mlir_ciface_" + name))

    def __call__(self, *arrays):
        descriptors = [Descriptor(a.ctypes.data, a.ctypes.data, 0, a.size, 1) for a in arrays]
        pointers = [ctypes.c_void_p(ctypes.addressof(d)) for d in descriptors]
        self.entry((ctypes.c_void_p * len(pointers))(*[ctypes.addressof(p) for p in pointers]))
        return arrays[-1]


def kernel_text(op, dtype, arity, lanes):
    """y[i] = op(x0[i], ...) in a loop, one scalar or one vector<lanes x dtype> per step."""
    memref = f"memref<?x{dtype}>"
    value_type = dtype if lanes == 1 else f"vector<{lanes}x{dtype}>"
    if lanes == 1:
        load = lambda k: f"memref.load %x{k}[%i] : {memref}"
        store = f"memref.store %r, %y[%i] : {memref}"
    else:
        load = lambda k: f"vector.load %x{k}[%i] : {memref}, {value_type}"
        store = f"vector.store %r, %y[%i] : {memref}, {value_type}"
    args = ", ".join(f"%x{k}: {memref}" for k in range(arity))
    loads = "\n".join(f"    %a{k} = {load(k)}" for k in range(arity))
    operands = ", ".join(f"%a{k}" for k in range(arity))
    return f"""
func.func @kernel({args}, %y: {memref}) attributes {{llvm.emit_c_interface}} {{
  %c0 = arith.constant 0 : index
  %step = arith.constant {lanes} : index
  %n = memref.dim %y, %c0 : {memref}
  scf.for %i = %c0 to %n step %step {{
{loads}
    %r = math.{op} {operands} : {value_type}
    {store}
  }}
  return
}}"""


_KERNELS = {}


def run(op, *xs, dtype="f32", lanes=16, outlined=False):
    """math.op elementwise on 1-D arrays (padded to a multiple of lanes)."""
    key = (op, dtype, len(xs), lanes, outlined)
    if key not in _KERNELS:
        _KERNELS[key] = Jitted(kernel_text(op, dtype, len(xs), lanes), lowering_tail(outlined))
    n = xs[0].size
    padded = [np.concatenate([x, np.ones(-n % lanes, x.dtype)]) for x in xs]
    return _KERNELS[key](*padded, np.empty_like(padded[0]))[:n]


def ulp_errors(got, exact):
    """|got - exact| in ulps of f32 at exact (f64); 0 where got is exact rounded to f32, inf where
    only one is NaN or where exact overflows f32 and got is not inf."""
    got = got.astype(np.float64)
    ulp = np.ldexp(1.0, np.maximum(np.frexp(exact)[1] - 24, -149))
    with np.errstate(invalid="ignore", over="ignore"):
        errors = np.abs(got - exact) / ulp
        rounded = exact.astype(np.float32).astype(np.float64)
    errors = np.where((got == rounded) | np.isnan(got) & np.isnan(exact), 0.0, errors)
    return np.where(np.isnan(errors), np.inf, errors)


def same_values(a, b):
    """Equal as numpy prints them: NaN matches NaN, and -0.0 only -0.0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a == b) & (np.signbit(a) == np.signbit(b)) | np.isnan(a) & np.isnan(b)


def sample():
    """Dense sweeps, random bit patterns of finite f32 and subnormals, in the op's domain."""
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2 ** 32, 1 << 20, dtype=np.uint64).astype(np.uint32).view(np.float32)
    parts = [np.linspace(-100, 100, 1 << 18, dtype=np.float32), np.linspace(-1, 1, 1 << 16, dtype=np.float32),
             bits[np.isfinite(bits)], rng.integers(1, 1 << 23, 1 << 12, dtype=np.uint32).view(np.float32)]
    return np.concatenate(parts + [-parts[-1]])


@pytest.mark.parametrize("lanes", [1, 16], ids=["scalar", "vector16"])
@pytest.mark.parametrize("op", sorted(REFERENCE))
def test_f32_accuracy_and_special_values(op, lanes):
    x = sample()
    with np.errstate(all="ignore"):
        exact = REFERENCE[op](x.astype(np.float64))
        errors = ulp_errors(run(op, x, lanes=lanes), exact)
        worst = int(np.argmax(errors))
        assert errors[worst] <= MAX_ULPS[op], f"{op}({x[worst]!r}): {errors[worst]:.2f} ulp"
        exact = REFERENCE[op](SPECIALS.astype(np.float64))
        want = exact.astype(np.float32)
    got = run(op, SPECIALS, lanes=lanes)
    # NaN, infinities, zeros (their signs) and +-1 (saturated tanh) must be numpy's exactly.
    exactly = ~np.isfinite(want) | (want == 0) | (np.abs(want) == 1)
    assert same_values(got, want)[exactly].all(), list(zip(SPECIALS, got, want))
    assert ulp_errors(got, exact)[~exactly].max() <= MAX_ULPS[op], list(zip(SPECIALS, got, want))


def two_over_pi(bits):
    """floor(2/pi 2^bits), from Machin's formula pi = 16 atan(1/5) - 4 atan(1/239) in integers."""
    guard = bits + 32

    def atan_inverse(n):  # atan(1/n) 2^guard, from its series
        total, power, k = 0, (1 << guard) // n, 0
        while power:
            total += (-1) ** k * (power // (2 * k + 1))
            power //= n * n
            k += 1
        return total

    pi = 16 * atan_inverse(5) - 4 * atan_inverse(239)  # pi 2^guard, low bits off by a few units
    return (2 << (guard + bits)) // pi


def test_two_over_pi_table():
    assert TWO_OVER_PI_BITS == two_over_pi(216)


def nearest_multiples_of_pi_over_2():
    """In each binade, the f32 closest to a multiple of pi/2: x = m 2^k with m < 2^24 closest is m the
    last continued-fraction denominator below 2^24 of frac(2^k 2/pi) (a best approximation); with
    the floats on either side. Among them 16367173 2^72, the closest of all (x 2/pi is 2^-29.9 off
    an integer)."""
    bits = 400
    scaled = two_over_pi(bits)
    found = []
    for k in range(-149, 105):
        alpha = Fraction(scaled << k if k >= 0 else scaled >> -k, 1 << bits) % 1
        previous, denominator, rest = 0, 1, alpha
        while rest:
            quotient = math.floor(1 / rest)
            rest = 1 / rest - quotient
            previous, denominator = denominator, quotient * denominator + previous
            if denominator >= 1 << 24:
                break
            found.append(math.ldexp(denominator, k))
    x = np.float32([v for v in found if v < 3.4e38])
    return np.concatenate([x, np.nextafter(x, np.float32(np.inf)), np.nextafter(x, np.float32(0))])


def every_binade(per_binade=32):
    """Random mantissas in each binade of f32 (exponents -126 to 127), random subnormals, and the
    huge values where an inexact reduction shows: both signs."""
    rng = np.random.default_rng(4)
    normal = np.ldexp(rng.uniform(1, 2, (254, per_binade)), np.arange(-126, 128)[:, None])
    subnormal = rng.integers(1, 1 << 23, per_binade) * 2.0 ** -149
    huge = [1e38, 3e15, 1e20, 2.5e30, 3.4028235e38, 2.0 ** 127, 2.0 ** 100, 4.5e15, 16367173 * 2.0 ** 72]
    x = np.float32(np.concatenate([normal.ravel(), subnormal, huge, [2.0 ** e for e in range(-149, 128)]]))
    return np.concatenate([x, -x])


@pytest.mark.parametrize("outlined", [False, True], ids=["inline", "outlined"])
@pytest.mark.parametrize("lanes", [1, 16], ids=["scalar", "vector16"])
@pytest.mark.parametrize("op", ["sin", "cos"])
def test_sin_cos_accurate_for_every_finite_argument(op, lanes, outlined):
    """Payne-Hanek: within MAX_ULPS of numpy's f64 result at the f32 argument in every binade up to
    3.4e38, and near multiples of pi/2, where the reduction cancels most bits (sin there is ~1e-9:
    an ulp bound is far stricter than an absolute one). Inline, and called as outlined functions."""
    for x in (every_binade(), nearest_multiples_of_pi_over_2()):
        errors = ulp_errors(run(op, x, lanes=lanes, outlined=outlined), REFERENCE[op](x.astype(np.float64)))
        worst = int(np.argmax(errors))
        assert errors[worst] <= MAX_ULPS[op], f"{op}({x[worst]!r}): {errors[worst]:.3g} ulp"


def test_powf_special_values_match_numpy():
    """Every pair of special values: NaN, infinities, zeros and +-1 exactly as numpy, the rest within 1 ulp."""
    values = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, 2.5, -2.5,
                       1e-45, -1e-45, 3.4e38, -3.4e38, 16777216.0, 8388609.0, -8388609.0, 4194305.0, 4194304.5,
                       1e10, 0.9999999, 127.0, 128.0, -149.0, -150.0], np.float32)
    x, y = (a.ravel() for a in np.meshgrid(values, values))
    with np.errstate(all="ignore"):
        exact = np.power(x.astype(np.float64), y.astype(np.float64))
        want = np.power(x, y)
    exactly = ~np.isfinite(want) | (want == 0) | (np.abs(want) == 1)
    for lanes in (1, 16):
        got = run("powf", x, y, lanes=lanes)
        differ = ~same_values(got, want) & exactly | (ulp_errors(got, exact) > 1)
        assert not differ.any(), list(zip(x[differ], y[differ], got[differ], want[differ]))[:10]


def test_powf_accuracy():
    rng = np.random.default_rng(2)
    n = 1 << 16
    positive_bits = rng.integers(0, 0x7F800000, n, dtype=np.uint32).view(np.float32)
    cases = [(rng.uniform(0, 10, n), rng.uniform(-30, 30, n)), (rng.uniform(0.5, 2, n), rng.uniform(-200, 200, n)),
             (positive_bits, rng.uniform(-3, 3, n)), (-rng.uniform(0, 10, n), rng.integers(-40, 40, n))]
    for x, y in cases:
        x, y = np.float32(x), np.float32(y)
        with np.errstate(all="ignore"):
            errors = ulp_errors(run("powf", x, y), np.power(x.astype(np.float64), y.astype(np.float64)))
        assert errors.max() <= 1.0, (x[np.argmax(errors)], y[np.argmax(errors)], errors.max())


@pytest.mark.parametrize("dtype", ["f16", "bf16"])
def test_low_precision_is_computed_in_f32(dtype):
    """Every f16/bf16 value: within one ulp of the type (the f32 result is rounded once more)."""
    np_dtype = {"f16": np.float16, "bf16": ml_dtypes.bfloat16}[dtype]
    every = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np_dtype)
    relative = 2.0 ** -{"f16": 10, "bf16": 7}[dtype]
    smallest = 2.0 ** -{"f16": 24, "bf16": 133}[dtype]
    cases = {op: (reference, [every]) for op, reference in REFERENCE.items()}
    cases["powf"] = (np.power, [every[::7], np.roll(every, 12345)[::7]])
    for op, (reference, xs) in cases.items():
        with np.errstate(all="ignore"):
            want = reference(*[x.astype(np.float64) for x in xs]).astype(np_dtype).astype(np.float64)
        got = run(op, *xs, dtype=dtype).astype(np.float64)
        with np.errstate(invalid="ignore"):
            close = same_values(got, want) | (np.abs(got - want) <= relative * np.abs(want) + smallest)
        assert close.all(), (op, xs[0][~close][:5], got[~close][:5], want[~close][:5])


# Every unary op of the op table, and power.
TG_FUNCTIONS = dict({name: fn for name, (fn, _, _) in op_table.UNARY.items()}, power=lambda x: tg.power(x, x * 0.5))


@pytest.mark.parametrize("name", sorted(TG_FUNCTIONS))
def test_tg_functions_through_the_cpu_pipeline(name):
    """The whole CPU pipeline with the pass: no libm intrinsic is left, and the results agree with
    the reference interpreter (including NaN and infinities)."""
    graph = tg.trace(TG_FUNCTIONS[name], [tg.f32[1000]], name="kernel")
    compiled = Jitted(graph.module.operation.get_asm(), pipeline())
    for intrinsic in ("exp", "log", "tanh", "sin", "cos", "pow"):
        assert f"llvm.intr.{intrinsic}(" not in compiled.llvm_dialect
    x = np.random.default_rng(3).uniform(-30, 30, 1000).astype(np.float32)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.asarray(graph(x), np.float64)
    got = compiled(x, np.empty_like(x)).astype(np.float64)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-37)
