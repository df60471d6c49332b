"""Reductions -> linalg.generic with reduction iterators over `axes`, into a filled accumulator."""

from tgraph.dtypes import is_float
from tgraph.mlir import arith

from .builders import affine_map, compute_dtype, full, generic, identity_map, lowest, rounded, spec, widen


def _reduce(x, axes, out, acc_dtype, init, combine):
    """combine(element, accumulator) -> accumulator, over the `axes` of x."""
    rank = spec(x).rank
    kept = [d for d in range(rank) if d not in axes]
    acc = generic([x], [identity_map(rank)], full(out.shape, acc_dtype, init), affine_map(rank, kept),
                  ["reduction" if d in axes else "parallel" for d in range(rank)], combine)
    return rounded(acc, out)


def _reduce_sum(out, x, axes):
    # f16/bf16 accumulate in f32 and round once, as the reference sums in f32.
    add = arith.addf if is_float(out.dtype) else arith.addi
    return _reduce(x, axes, out, compute_dtype(out.dtype), 0, lambda value, total: add(widen(value), total))


def _reduce_max(out, x, axes):
    # Starts at the identity (-inf: the value of an empty reduction); maximumf propagates NaN.
    # Exact in every float type, so f16/bf16 need no f32 accumulator.
    return _reduce(x, axes, out, out.dtype, lowest(out.dtype), arith.maximumf if is_float(out.dtype) else arith.maxsi)


RULES = {"reduce_sum": _reduce_sum, "reduce_max": _reduce_max}
