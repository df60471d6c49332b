"""Builders the lowering rules share: tensors, scalar constants, linalg.generic, reshapes, padding.

Every builder emits at the current insertion point and location (the conversion pattern sets
both). Shapes are static Python tuples; values are MLIR Values."""

import numpy as np

from tgraph.dialect import element_type, spec_of
from tgraph.support.dtypes import is_float, to_numpy
from tgraph.support.mlir import arith, ir, linalg, tensor

# f16 and bf16 compute in f32 and round each op's result, as the interpreter does.
LOW_PRECISION = ("f16", "bf16")


def spec(value):
    return spec_of(value.type)


def compute_dtype(dtype):
    return "f32" if dtype in LOW_PRECISION else dtype


def widen(x):
    """A scalar of a low-precision type, extended to f32 (others unchanged)."""
    return arith.extf(element_type("f32"), x) if str(x.type) in LOW_PRECISION else x


def widen_to(x, dtype):
    """A scalar extended to the wider `dtype` a contraction sums in (bf16 -> f32, f32 -> f64,
    i32 -> i64; the same type: unchanged)."""
    if str(x.type) == dtype:
        return x
    extend = arith.extf if is_float(dtype) else arith.extsi
    return extend(element_type(dtype), x)


def narrow(x, dtype):
    """An f32 scalar rounded (to nearest even) to `dtype` when that is a low-precision type."""
    return arith.truncf(element_type(dtype), x) if dtype in LOW_PRECISION and str(x.type) != dtype else x


def in_compute_type(fn, dtype):
    """fn on scalars, computed in f32 when `dtype` is f16/bf16 and rounded back."""
    if dtype not in LOW_PRECISION:
        return fn
    return lambda *xs: narrow(fn(*map(widen, xs)), dtype)


def rounded(acc, out):
    """An accumulator tensor in the compute type, as the result type `out` (f16/bf16: rounded once)."""
    return acc if spec(acc).dtype == out.dtype else elementwise([acc], out, lambda v: narrow(v, out.dtype))


def scalar(value, dtype):
    """arith.constant of `value`, converted to `dtype` as numpy converts it."""
    value = np.asarray(value).astype(to_numpy(dtype))[()]
    t = element_type(dtype)
    if is_float(dtype):
        return arith.constant(t, ir.FloatAttr.get(t, float(value)))
    return arith.constant(t, ir.IntegerAttr.get(t, int(value)))


def lowest(dtype):
    """The identity of max: -inf, or the smallest integer."""
    return scalar(-np.inf if is_float(dtype) else np.iinfo(to_numpy(dtype)).min, dtype)


def tensor_of(shape, dtype):
    return ir.RankedTensorType.get(list(shape), element_type(dtype))


def empty(shape, dtype):
    return tensor.EmptyOp(list(shape), element_type(dtype)).result


def full(shape, dtype, value):
    """A tensor filled with `value` (a Python number or an MLIR scalar of `dtype`)."""
    if not isinstance(value, ir.Value):
        value = scalar(value, dtype)
    return linalg.fill(value, outs=[empty(shape, dtype)])


# ----------------------------------------------------------------------------- linalg.generic
def affine_map(n_loops, exprs):
    """A map from n_loops loop dims; each expr is a loop index (int) or an AffineExpr."""
    return ir.AffineMap.get(n_loops, 0, [ir.AffineDimExpr.get(e) if isinstance(e, int) else e for e in exprs])


def identity_map(n_loops):
    return affine_map(n_loops, range(n_loops))


def generic(inputs, input_maps, init, output_map, iterators, body):
    """linalg.generic over len(iterators) loops ("parallel" / "reduction") writing into `init`;
    body(*input scalars, output scalar) returns the scalar to yield."""
    maps = ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in list(input_maps) + [output_map]])
    kinds = ir.ArrayAttr.get([ir.Attribute.parse(f"#linalg.iterator_type<{it}>") for it in iterators])
    op = linalg.GenericOp([init.type], list(inputs), [init], maps, kinds)
    block = op.regions[0].blocks.append(*[ir.ShapedType(v.type).element_type for v in list(inputs) + [init]])
    with ir.InsertionPoint(block):
        linalg.YieldOp([body(*block.arguments)])
    return op.result


def elementwise(inputs, out, fn):
    """result[i...] = fn(inputs[i...]...): a parallel generic that upstream elementwise fusion merges."""
    n = out.rank
    return generic(inputs, [identity_map(n)] * len(inputs), empty(out.shape, out.dtype), identity_map(n),
                   ["parallel"] * n, lambda *args: fn(*args[:-1]))


def loop_index(dim):
    return linalg.IndexOp(dim).result


# ----------------------------------------------------------------------------- reshapes and slices
def reshape(x, shape):
    """The same elements in row-major order with a new static shape, through one flat dimension
    (canonicalize composes the collapse/expand pair into the simplest form)."""
    s = spec(x)
    shape = tuple(shape)
    if shape == s.shape:
        return x
    flat_type = tensor_of((s.size,), s.dtype)
    if s.rank == 0:
        flat = tensor.expand_shape(flat_type, x, [], [], [1])
    elif s.rank == 1:
        flat = x
    else:
        flat = tensor.collapse_shape(flat_type, x, [list(range(s.rank))])
    out_type = tensor_of(shape, s.dtype)
    if len(shape) == 0:
        return tensor.collapse_shape(out_type, flat, [])
    if len(shape) == 1:
        return flat
    return tensor.expand_shape(out_type, flat, [list(range(len(shape)))], [], list(shape))


def extract_slice(x, offsets, sizes, strides):
    s = spec(x)
    if tuple(sizes) == s.shape:
        return x
    return tensor.extract_slice(tensor_of(sizes, s.dtype), x, [], [], [], list(offsets), list(sizes), list(strides))


def insert_slice(source, dest, offsets, strides):
    return tensor.insert_slice(source, dest, [], [], [], list(offsets), list(spec(source).shape), list(strides))


def pad(x, low, high, interior, value):
    """`value` everywhere, then x's elements at low + i * (interior + 1) in each dimension;
    elements that fall outside (negative low/high crop) are dropped. value: a number or an MLIR scalar."""
    s = spec(x)
    out_shape = [lo + hi + d + max(d - 1, 0) * it for d, lo, hi, it in zip(s.shape, low, high, interior)]
    out = full(out_shape, s.dtype, value)
    first, counts = [], []
    for d, lo, it, n in zip(s.shape, low, interior, out_shape):
        step = it + 1
        i0 = -(lo // step) if lo < 0 else 0  # first element at a position >= 0
        i1 = min(d - 1, (n - 1 - lo) // step)  # last element at a position < n
        first.append(i0)
        counts.append(i1 - i0 + 1)
    if min(counts, default=1) <= 0:
        return out
    kept = extract_slice(x, first, counts, [1] * s.rank)
    offsets = [lo + i0 * (it + 1) for lo, i0, it in zip(low, first, interior)]
    return insert_slice(kept, out, offsets, [it + 1 for it in interior])

