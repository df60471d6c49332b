"""Element type conversion; the identity that blocks differentiation, and the one that blocks
common-subexpression elimination (what keeps a checkpoint's recomputation from being merged
back into the forward values it recomputes)."""

import numpy as np

from .ad import convention, deflinear, defzero, dtype_of
from .batching import defbatch_elementwise
from .core import ELEMENT_TYPE, OPS, defop, spec_of
from tgraph.support.dtypes import TensorSpec, is_float, to_numpy


def _cast(x, dtype):
    target = to_numpy(dtype)
    if dtype == "i1":
        return x != 0
    if target.kind == "i" and x.dtype.kind == "f":
        # Truncate toward zero; NaN becomes 0 and out-of-range saturates (defined, unlike C's cast).
        info = np.iinfo(target)
        t = np.nan_to_num(np.trunc(x.astype(np.float64)), nan=0.0, posinf=np.inf, neginf=-np.inf)
        # Compare in floats against the exact powers of two: np.clip's bound 2^63 - 1 would round up.
        high, low = t >= -float(info.min), t < float(info.min)
        out = np.where(high | low, 0, t).astype(target)
        return np.where(high, info.max, np.where(low, info.min, out)).astype(target)
    if x.dtype == np.float64 and dtype in ("f16", "bf16"):
        return round_to_odd_f32(x).astype(target)
    return x.astype(target)


def round_to_odd_f32(x):
    """f64 -> f32 rounding to odd (of an inexact value's two f32 neighbours, the one with its last
    bit set): rounding the result again to f16 or bf16 is then one correct rounding of x, whatever
    the numpy or ml_dtypes version does for a direct cast (some round f64 -> bf16 through f32)."""
    x = np.asarray(x, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        nearest = x.astype(np.float32)
        back = nearest.astype(np.float64)
        bits = nearest.view(np.uint32).astype(np.int64)
        step = np.where(np.abs(back) > np.abs(x), -1, 1)
        fix = (back != x) & ~np.isnan(x) & (bits % 2 == 0)
    return np.where(fix, bits + step, bits).astype(np.uint32).view(np.float32).reshape(x.shape)


defop("cast", "conversion", ("x",), lambda specs, dtype: TensorSpec(specs[0].shape, dtype), _cast,
      attrs={"dtype": ELEMENT_TYPE},
      doc="convert to `dtype`: floats round to nearest; float to integer truncates toward zero, "
          "saturates, NaN -> 0; to i1 means != 0", foldable=True)
defop("stop_gradient", "conversion", ("x",), lambda specs: specs[0], lambda x: x,
      doc="the identity, but differentiation sees a constant (PyTorch's detach)")
defop("optimization_barrier", "conversion", ("x",), lambda specs: specs[0], lambda x: x,
      doc="the identity, which the compiler may not see through: ops on its result are never merged with "
          "the same ops on its operand (StableHLO's optimization_barrier; tgraph.checkpoint's recomputation "
          "starts from one). Lowered to a copy")


def _cast_jvp(em, primals, tangents, result, dtype):
    (t,) = tangents
    source = spec_of(primals[0].type).dtype
    if t is None or not (is_float(source) and is_float(dtype)):
        return None  # to or from integers and i1: piecewise constant
    return em.cast(t, dtype=dtype)


def _cast_vjp(em, primals, active, ct, result, dtype):
    source = dtype_of(primals[0])
    return [em.cast(ct, dtype=source) if active[0] and is_float(source) and is_float(dtype) else None]


OPS["cast"].jvp = _cast_jvp
OPS["cast"].vjp = _cast_vjp
OPS["cast"].linear_in, OPS["cast"].linear_when = ((0,),), lambda dtype: is_float(dtype)
defzero("stop_gradient")
deflinear("optimization_barrier", lambda em, ct, x, result: ct)
convention("cast", "float to float passes the derivative through (rounded); to or from integers and i1: zero")
defbatch_elementwise("cast")
defbatch_elementwise("stop_gradient")
defbatch_elementwise("optimization_barrier")
