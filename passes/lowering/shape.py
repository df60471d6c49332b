"""Shape ops: data movement as parallel linalg.generic (broadcast, transpose, reverse: they fuse
with their elementwise neighbours) or tensor ops (reshape, slice, concat, pad)."""

import numpy as np

from tgraph.support.mlir import ir

from .builders import LOW_PRECISION, affine_map, empty, extract_slice, generic, identity_map, insert_slice, pad, reshape, spec


def _copy_generic(x, input_map, out):
    """result[i...] = x[input_map(i...)]."""
    return generic([x], [input_map], empty(out.shape, out.dtype), identity_map(out.rank), ["parallel"] * out.rank,
                   lambda value, _: value)


def _broadcast(out, x, dims, shape):
    # A size-1 operand dimension that stretches reads index 0.
    exprs = [ir.AffineConstantExpr.get(0) if size == 1 and shape[d] != 1 else d
             for size, d in zip(spec(x).shape, dims)]
    return _copy_generic(x, affine_map(out.rank, exprs), out)


def _transpose(out, x, permutation):
    # Result dimension i is operand dimension permutation[i]: operand dim k reads loop i where permutation[i] == k.
    inverse = [permutation.index(k) for k in range(len(permutation))]
    return _copy_generic(x, affine_map(out.rank, inverse), out)


def _reverse(out, x, axes):
    if not axes:
        return x
    exprs = [ir.AffineConstantExpr.get(n - 1) - ir.AffineDimExpr.get(d) if d in axes else d
             for d, n in enumerate(out.shape)]
    return _copy_generic(x, affine_map(out.rank, exprs), out)


def _concat(out, lhs, rhs, axis):
    result = insert_slice(lhs, empty(out.shape, out.dtype), [0] * out.rank, [1] * out.rank)
    offsets = [spec(lhs).shape[axis] if d == axis else 0 for d in range(out.rank)]
    return insert_slice(rhs, result, offsets, [1] * out.rank)


def _pad(out, x, low, high, interior, value):
    # The reference fills in f32 for f16/bf16 and then rounds: the same double rounding here.
    return pad(x, low, high, interior, np.float32(value) if out.dtype in LOW_PRECISION else value)


RULES = {
    "broadcast_in_dim": _broadcast,
    "reshape": lambda out, x, shape: reshape(x, shape),
    "transpose": _transpose,
    "reverse": _reverse,
    "slice": lambda out, x, start, limit, stride: extract_slice(x, start, out.shape, stride),
    "concat": _concat,
    "pad": _pad,
}
