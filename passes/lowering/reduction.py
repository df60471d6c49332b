"""Reductions -> linalg.generic with reduction iterators over `axes`, into a filled accumulator.

Float sums of more than DIRECT_SUM_TERMS terms are blocked: the terms are summed in blocks of
SUM_BLOCK, then the block sums the same way, until at most DIRECT_SUM_TERMS are left. A sum in
one running accumulator has a rounding error that grows with the number of terms (10^7 f32
terms: 1e-2 relative); blocked, it grows like SUM_BLOCK * log(n) / log(SUM_BLOCK). Every backend
lowers through here, so the CPU codegen and the GPU kernels both see the blocked form."""

import math

from tgraph.support.dtypes import is_float
from tgraph.support.mlir import arith, tensor

from .builders import affine_map, compute_dtype, extract_slice, full, generic, identity_map, lowest, rounded, spec, \
    tensor_of, widen

# Sums of up to DIRECT_SUM_TERMS terms stay one reduction: rows of softmax or layer norm over up
# to 1024 features remain the reductions that the CPU codegen's row groups fuse with their
# neighbours. Blocks of 256 keep each level's error small where a block is summed in one running
# value (a kept innermost dimension on the CPU); 256 is a multiple of every vector width, so the
# CPU's partial-sum strategy applies to each level (measured: 10^7 terms 10% slower than unblocked).
DIRECT_SUM_TERMS = 1024
SUM_BLOCK = 256


def _reduce_into(x, axes, acc, combine):
    """acc combined with the elements of x over `axes`; combine(element, accumulator) -> accumulator."""
    rank = spec(x).rank
    kept = [d for d in range(rank) if d not in axes]
    return generic([x], [identity_map(rank)], acc, affine_map(rank, kept),
                   ["reduction" if d in axes else "parallel" for d in range(rank)], combine)


def _reduce(x, axes, out, acc_dtype, init, combine):
    return rounded(_reduce_into(x, axes, full(out.shape, acc_dtype, init), combine), out)


def _add(value, total):
    # f16/bf16 terms are added in f32 (the accumulator's type), as the reference sums them.
    return arith.addf(widen(value), total)


def _zeros_like_without(x, axis, acc):
    shape = spec(x).shape
    return full(shape[:axis] + shape[axis + 1:], spec(acc).dtype, 0)


def _merge_adjacent_axes(x, axes):
    """x with each run of adjacent reduced axes collapsed into one (a view), and the new axes."""
    groups, merged = [], []
    for d in range(spec(x).rank):
        if d in axes and groups and groups[-1][-1] in axes:
            groups[-1].append(d)
        else:
            groups.append([d])
            if d in axes:
                merged.append(len(groups) - 1)
    if len(groups) == spec(x).rank:
        return x, list(axes)
    s = spec(x)
    shape = [math.prod(s.shape[d] for d in group) for group in groups]
    return tensor.collapse_shape(tensor_of(shape, s.dtype), x, groups), merged


def _sum_axis(x, axis, acc):
    """acc + the sum of x over one axis: in blocks of SUM_BLOCK terms while more than DIRECT_SUM_TERMS remain."""
    s = spec(x)
    n = s.shape[axis]
    if n <= DIRECT_SUM_TERMS:
        return _reduce_into(x, [axis], acc, _add)
    blocks, tail = divmod(n, SUM_BLOCK)
    if tail:  # the last `tail` terms go straight into the accumulator; the rest splits evenly
        start = [0] * s.rank
        start[axis] = blocks * SUM_BLOCK
        acc = _reduce_into(extract_slice(x, start, s.shape[:axis] + (tail,) + s.shape[axis + 1:], [1] * s.rank),
                           [axis], acc, _add)
        x = extract_slice(x, [0] * s.rank, s.shape[:axis] + (blocks * SUM_BLOCK,) + s.shape[axis + 1:], [1] * s.rank)
    split = s.shape[:axis] + (blocks, SUM_BLOCK) + s.shape[axis + 1:]
    groups = [[d] for d in range(axis)] + [[axis, axis + 1]] + [[d + 1] for d in range(axis + 1, s.rank)]
    x = tensor.expand_shape(tensor_of(split, s.dtype), x, groups, [], list(split))
    block_sums = _reduce_into(x, [axis + 1], _zeros_like_without(x, axis + 1, acc), _add)
    return _sum_axis(block_sums, axis, acc)


def _blocked_sum(x, axes, acc):
    """acc + the sum of x over `axes` (sorted); more than DIRECT_SUM_TERMS terms are blocked."""
    if math.prod(spec(x).shape[a] for a in axes) <= DIRECT_SUM_TERMS:
        return _reduce_into(x, axes, acc, _add)
    x, axes = _merge_adjacent_axes(x, axes)
    *outer, inner = axes
    if not outer:
        return _sum_axis(x, inner, acc)
    # Axes apart from each other: the innermost first, then the rest (whose positions it leaves as they are).
    return _blocked_sum(_sum_axis(x, inner, _zeros_like_without(x, inner, acc)), outer, acc)


def _reduce_sum(out, x, axes):
    if not is_float(out.dtype):  # integer sums are exact (or wrap) in any order
        return _reduce(x, axes, out, out.dtype, 0, arith.addi)
    # f16/bf16 accumulate in f32 through every level and round once, as the reference sums in f32.
    return rounded(_blocked_sum(x, sorted(axes), full(out.shape, compute_dtype(out.dtype), 0)), out)


def _reduce_max(out, x, axes):
    # Starts at the identity (-inf: the value of an empty reduction); maximumf propagates NaN.
    # Exact in every float type, so f16/bf16 need no f32 accumulator.
    return _reduce(x, axes, out, out.dtype, lowest(out.dtype), arith.maximumf if is_float(out.dtype) else arith.maxsi)


RULES = {"reduce_sum": _reduce_sum, "reduce_max": _reduce_max}
