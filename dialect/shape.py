"""Shape ops: broadcast_in_dim, reshape, transpose, reverse, slice, concat, pad."""

import numpy as np

from .ad import deflinear, defvjp, shape_of, unpad, unslice
from .batching import defbatch_with_attrs, shift
from .core import F64, I64, I64_ARRAY, OPS, check_axes, check_len, defop, require
from tgraph.support.dtypes import TensorSpec


def _infer_broadcast(specs, dims, shape):
    (x,) = specs
    check_len(dims, x.rank, "broadcast dims")
    require(list(dims) == sorted(set(dims)), f"broadcast dims {list(dims)} must be strictly increasing")
    check_axes(dims, len(shape), "broadcast dims")
    for i, d in enumerate(dims):
        require(x.shape[i] in (1, shape[d]),
                f"operand dimension {i} (size {x.shape[i]}) cannot broadcast to result dimension {d} (size {shape[d]})")
    return TensorSpec(shape, x.dtype)


def _broadcast(x, dims, shape):
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = x.shape[i]
    return np.broadcast_to(x.reshape(expanded), shape)


defop("broadcast_in_dim", "shape", ("x",), _infer_broadcast, _broadcast,
      attrs={"dims": I64_ARRAY, "shape": I64_ARRAY},
      doc="operand dimension i becomes result dimension dims[i] (size 1 stretches); other result dimensions repeat")


def _infer_reshape(specs, shape):
    (x,) = specs
    require(all(d >= 0 for d in shape), f"shape {list(shape)} has a negative dimension")
    result = TensorSpec(shape, x.dtype)
    require(result.size == x.size, f"cannot reshape {x} ({x.size} elements) to shape {list(shape)} ({result.size} elements)")
    return result


defop("reshape", "shape", ("x",), _infer_reshape, lambda x, shape: x.reshape(shape), attrs={"shape": I64_ARRAY},
      doc="same elements in row-major order, new shape")


def _infer_transpose(specs, permutation):
    (x,) = specs
    require(sorted(permutation) == list(range(x.rank)),
            f"permutation {list(permutation)} is not a permutation of 0..{x.rank - 1}")
    return TensorSpec(tuple(x.shape[p] for p in permutation), x.dtype)


defop("transpose", "shape", ("x",), _infer_transpose, lambda x, permutation: np.transpose(x, permutation),
      attrs={"permutation": I64_ARRAY}, doc="result dimension i is operand dimension permutation[i]")


def _infer_reverse(specs, axes):
    (x,) = specs
    check_axes(axes, x.rank)
    return x


defop("reverse", "shape", ("x",), _infer_reverse, lambda x, axes: np.flip(x, tuple(axes)) if axes else x,
      attrs={"axes": I64_ARRAY}, doc="the elements in reverse order along each of `axes` (flips a kernel)")


def _infer_slice(specs, start, limit, stride):
    (x,) = specs
    for what, v in (("start", start), ("limit", limit), ("stride", stride)):
        check_len(v, x.rank, what)
    shape = []
    for i, (s, l, st, d) in enumerate(zip(start, limit, stride, x.shape)):
        require(st >= 1, f"stride {st} in dimension {i} must be positive")
        require(0 <= s <= l <= d, f"slice [{s}:{l}] of dimension {i} (size {d}) is out of range")
        shape.append(-(-(l - s) // st))
    return TensorSpec(shape, x.dtype)


defop("slice", "shape", ("x",), _infer_slice,
      lambda x, start, limit, stride: x[tuple(slice(s, l, st) for s, l, st in zip(start, limit, stride))],
      attrs={"start": I64_ARRAY, "limit": I64_ARRAY, "stride": I64_ARRAY},
      doc="x[start:limit:stride] in every dimension (positive strides, in-range bounds)")


def _infer_concat(specs, axis):
    first = specs[0]
    require(0 <= axis < max(first.rank, 1) and first.rank > 0, f"axis {axis} out of range for rank {first.rank}")
    for i, s in enumerate(specs[1:], 1):
        same = s.rank == first.rank and all(a == b for k, (a, b) in enumerate(zip(s.shape, first.shape)) if k != axis)
        require(same and s.dtype == first.dtype,
                f"operand {i} ({s}) must match operand 0 ({first}) except in dimension {axis}")
    shape = list(first.shape)
    shape[axis] = sum(s.shape[axis] for s in specs)
    return TensorSpec(shape, first.dtype)


# Binary: IRDL binds a constraint to one type, so a variadic group could not mix shapes.
defop("concat", "shape", ("lhs", "rhs"), _infer_concat, lambda x, y, axis: np.concatenate([x, y], axis=axis),
      attrs={"axis": I64}, doc="lhs then rhs along `axis`; the builders chain it for more inputs")


def _infer_pad(specs, low, high, interior, value):
    (x,) = specs
    for what, v in (("low", low), ("high", high), ("interior", interior)):
        check_len(v, x.rank, what)
    shape = []
    for i, (lo, hi, it, d) in enumerate(zip(low, high, interior, x.shape)):
        require(it >= 0, f"interior padding {it} in dimension {i} must be non-negative")
        n = lo + hi + d + max(d - 1, 0) * it
        require(n >= 0, f"padding ({lo}, {hi}) of dimension {i} (size {d}) leaves a negative size")
        shape.append(n)
    return TensorSpec(shape, x.dtype)


def _pad(x, low, high, interior, value):
    # Interior padding first (spread), then edges; negative edges crop.
    spread = [d + max(d - 1, 0) * it for d, it in zip(x.shape, interior)]
    out = np.full(spread, value, dtype=x.dtype)
    out[tuple(slice(None, None, it + 1) for it in interior)] = x
    grown = np.pad(out, [(max(lo, 0), max(hi, 0)) for lo, hi in zip(low, high)], constant_values=value)
    return grown[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for lo, hi, n in zip(low, high, grown.shape))]


defop("pad", "shape", ("x",), _infer_pad, _pad,
      attrs={"low": I64_ARRAY, "high": I64_ARRAY, "interior": I64_ARRAY, "value": F64},
      doc="`interior` copies of `value` between elements, `low`/`high` at the edges (negative edges crop)")


# ----------------------------------------------------------------------------- derivatives: all linear
def _unbroadcast(em, ct, x, result, dims, shape):
    """Sum over the dimensions that broadcasting created or stretched, then restore x's shape."""
    x_shape = shape_of(x)
    summed = [d for d in range(len(shape)) if d not in dims]
    summed += [d for i, d in enumerate(dims) if x_shape[i] == 1 and shape[d] != 1]
    if summed:
        ct = em.reduce_sum(ct, axes=tuple(sorted(summed)))
    return ct if shape_of(ct) == x_shape else em.reshape(ct, shape=x_shape)


def _untranspose(em, ct, x, result, permutation):
    inverse = [0] * len(permutation)
    for i, p in enumerate(permutation):
        inverse[p] = i
    return em.transpose(ct, permutation=tuple(inverse))


def _concat_part(em, ct, part, offset, axis):
    shape = shape_of(part)
    start = tuple(offset if d == axis else 0 for d in range(len(shape)))
    limit = tuple(offset + n if d == axis else n for d, n in enumerate(shape))
    return em.slice(ct, start=start, limit=limit, stride=(1,) * len(shape))


deflinear("broadcast_in_dim", _unbroadcast)
deflinear("reshape", lambda em, ct, x, result, shape: em.reshape(ct, shape=shape_of(x)))
deflinear("transpose", _untranspose)
deflinear("reverse", lambda em, ct, x, result, axes: em.reverse(ct, axes=axes))
deflinear("slice", lambda em, ct, x, result, **window: unslice(em, ct, shape_of(x), **window))
deflinear("concat", lambda em, ct, x, y, result, axis: _concat_part(em, ct, x, 0, axis),
          lambda em, ct, x, y, result, axis: _concat_part(em, ct, y, shape_of(x)[axis], axis))


def _pad_jvp(em, primals, tangents, result, low, high, interior, value):
    (t,) = tangents
    return None if t is None else em.pad(t, low=low, high=high, interior=interior, value=0.0)


OPS["pad"].jvp = _pad_jvp  # the padding value is a constant: its tangent is zero
OPS["pad"].linear_in, OPS["pad"].linear_when = ((0,),), lambda value, **window: value == 0
defvjp("pad", lambda em, ct, x, result, low, high, interior, value: unpad(em, ct, shape_of(x), low, high, interior))

# ----------------------------------------------------------------------------- batching
# The batch dimension leads: axes shift by one, shapes and windows gain it in front.
defbatch_with_attrs("broadcast_in_dim", lambda size, dims, shape: {"dims": (0,) + shift(dims), "shape": (size,) + tuple(shape)})
defbatch_with_attrs("reshape", lambda size, shape: {"shape": (size,) + tuple(shape)})
defbatch_with_attrs("transpose", lambda size, permutation: {"permutation": (0,) + shift(permutation)})
defbatch_with_attrs("reverse", lambda size, axes: {"axes": shift(axes)})
defbatch_with_attrs("slice", lambda size, start, limit, stride: {"start": (0,) + tuple(start), "limit": (size,) + tuple(limit),
                                                                   "stride": (1,) + tuple(stride)})
defbatch_with_attrs("concat", lambda size, axis: {"axis": axis + 1})
defbatch_with_attrs("pad", lambda size, low, high, interior, value: {"low": (0,) + tuple(low), "high": (0,) + tuple(high),
                                                                      "interior": (0,) + tuple(interior), "value": value})
