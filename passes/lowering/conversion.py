"""tg.cast -> a parallel linalg.generic with the arith conversion the reference's numpy cast
performs; tg.stop_gradient -> its operand; tg.optimization_barrier -> a copy in a new tensor
(bufferization.alloc_tensor), which CSE does not merge."""

import numpy as np

from tgraph.dialect import element_type
from tgraph.support.dtypes import is_float, to_numpy
from tgraph.support.mlir import arith, bufferization, math

from .builders import elementwise, scalar, spec

_WIDTH = {"f16": 16, "bf16": 16, "f32": 32, "f64": 64, "i1": 1, "i32": 32, "i64": 64}


def _float_to_int(x, dtype):
    """Truncate toward zero; NaN -> 0; out of range saturates (arith.fptosi alone is poison there)."""
    if str(x.type) != "f64":
        x = arith.extf(element_type("f64"), x)  # exact; the bounds below are exact in f64
    info = np.iinfo(to_numpy(dtype))
    too_low = arith.cmpf(arith.CmpFPredicate.OLT, x, scalar(float(info.min), "f64"))
    too_high = arith.cmpf(arith.CmpFPredicate.OGE, x, scalar(-float(info.min), "f64"))
    is_nan = arith.cmpf(arith.CmpFPredicate.UNO, x, x)
    value = arith.fptosi(element_type(dtype), x)
    value = arith.select(too_low, scalar(info.min, dtype), value)
    value = arith.select(too_high, scalar(info.max, dtype), value)
    return arith.select(is_nan, scalar(0, dtype), value)


def _f64_to_f32_round_to_odd(x):
    """f64 -> f32 rounding to odd: of the two f32 neighbours of an inexact x, the one whose last
    bit is 1. Rounding that once more to a type of at most 22 significant bits (f16, bf16) gives
    the correctly rounded result, where two round-to-nearest steps can round a tie the wrong way.
    Integer bit arithmetic only: the result does not depend on the host's conversion instructions."""
    i32, f32 = element_type("i32"), element_type("f32")
    nearest = arith.truncf(f32, x)
    back = arith.extf(element_type("f64"), nearest)
    inexact = arith.cmpf(arith.CmpFPredicate.ONE, back, x)  # false for NaN
    bits = arith.bitcast(i32, nearest)
    even = arith.cmpi(arith.CmpIPredicate.eq, arith.andi(bits, scalar(1, "i32")), scalar(0, "i32"))
    # The other neighbour is one step toward x: down in magnitude if nearest rounded away from zero.
    away = arith.cmpf(arith.CmpFPredicate.OGT, math.absf(back), math.absf(x))
    other = arith.addi(bits, arith.select(away, scalar(-1, "i32"), scalar(1, "i32")))
    return arith.bitcast(f32, arith.select(arith.andi(inexact, even), other, bits))


def _float_to_float(x, source, dtype):
    if source in ("f16", "bf16") and dtype in ("f16", "bf16"):
        return arith.truncf(element_type(dtype), arith.extf(element_type("f32"), x))  # the reference goes through f32
    if source == "f64" and dtype in ("f16", "bf16"):
        x = _f64_to_f32_round_to_odd(x)  # then one correct rounding to dtype
    if _WIDTH[dtype] > _WIDTH[str(x.type)]:
        return arith.extf(element_type(dtype), x)
    return arith.truncf(element_type(dtype), x)


def convert(x, source, dtype):
    """A scalar of type `source` converted to `dtype` as the reference's cast does."""
    t = element_type(dtype)
    if source == dtype:
        return x
    if dtype == "i1":  # != 0; NaN != 0 is true
        if is_float(source):
            return arith.cmpf(arith.CmpFPredicate.UNE, x, scalar(0.0, source))
        return arith.cmpi(arith.CmpIPredicate.ne, x, scalar(0, source))
    if source == "i1":  # true is 1, not -1
        return arith.uitofp(t, x) if is_float(dtype) else arith.extui(t, x)
    if is_float(source) and is_float(dtype):
        return _float_to_float(x, source, dtype)
    if is_float(source):
        return _float_to_int(x, dtype)
    if is_float(dtype):
        return arith.sitofp(t, x)
    return arith.extsi(t, x) if _WIDTH[dtype] > _WIDTH[source] else arith.trunci(t, x)  # trunci wraps, as numpy


RULES = {
    "cast": lambda out, x, dtype: elementwise([x], out, lambda v: convert(v, spec(x).dtype, dtype)),
    "stop_gradient": lambda out, x: x,
    # A fresh buffer holding a copy: allocations are never merged by CSE, and nothing folds the copy away.
    "optimization_barrier": lambda out, x: bufferization.AllocTensorOp(x.type, [], copy=x).result,
}
