"""Numpy-like functions on Vars: numpy broadcasting, numpy-style axis/keepdims, Python scalars
and numpy arrays as constants. Each records tg ops; composites live in tgraph.nn."""

import builtins  # this module defines sum, max, min, abs and slice for Vars
import numbers
import warnings

import numpy as np

from .support import dtypes
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .graph import Var, current_trace
from tgraph.dialect import OPS

__all__ = [  # and the generated elementwise functions (_GENERATED), appended below
    "less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "where", "clip",
    "sum", "mean", "max", "min", "reshape", "transpose", "flip", "broadcast_to", "concatenate", "pad", "slice",
    "matmul", "dot_general", "conv2d", "max_pool2d", "avg_pool2d", "embedding", "scatter_add", "set_row",
    "cast", "stop_gradient", "optimization_barrier", "constant", "full", "zeros", "ones", "zeros_like", "ones_like",
    "uniform", "bernoulli",
]


# ----------------------------------------------------------------------------- operands
def _trace_of(args, opname):
    traces = {id(a.trace): a.trace for a in args if isinstance(a, Var)}
    if not traces:
        raise TGraphTypeError(f"{opname}: needs at least one tgraph Var, got {', '.join(type(a).__name__ for a in args)}")
    current = current_trace()
    if current is not None and all(current.encloses(t) for t in traces.values()):
        return current  # Vars of enclosing traces are captured (Trace.lift)
    if len(traces) > 1:
        names = ", ".join(repr(t.name) for t in traces.values())
        raise TGraphError(f"{opname}: Vars from different graphs ({names}) cannot be combined; "
                          "build each graph from its own inputs, or pass the value in as an input")
    (trace,) = traces.values()
    if not trace.active:
        raise TGraphError(f"{opname}: a Var of graph {trace.name!r} was used after its trace finished; "
                          "Vars live only while their function is being traced")
    return trace


def _var(x, opname):
    if not isinstance(x, Var):
        raise TGraphTypeError(f"{opname}: expected a tgraph Var, got {type(x).__name__}")
    _trace_of([x], opname)
    return x


def _constant(trace, array):
    return trace.constant(array)


def constant_in(trace, value):
    """A Python number (float: f32, int: i32, as elsewhere in the API) or numpy array as a constant of `trace`."""
    if isinstance(value, float):
        value = np.float32(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        value = np.int32(value)
    return _constant(trace, np.asarray(value))


def _is_scalar(x):
    return isinstance(x, (numbers.Number, np.number, np.bool_)) and not isinstance(x, Var)


class _Scalar:
    """A Python scalar waiting for its shape: it becomes one tg.splat of the broadcast shape."""

    def __init__(self, value, dtype, trace):
        self.value, self.spec, self.trace = value, TensorSpec((), dtype), trace
        self.shape = ()

    def materialize(self, shape=()):
        return self.trace.emit("splat", [], value=self.value, shape=tuple(shape), dtype=self.spec.dtype)


def _promote(args, opname, trace=None, pending_scalars=False):
    """Vars stay; Python scalars take the Vars' element type (weak typing, as in JAX); numpy arrays
    become constants of their own type. All must end with one element type. Without any Var among
    args, `trace` says where constants go and Python floats default to f32, ints to i32.
    With pending_scalars, scalars stay _Scalar until broadcasting gives them a shape."""
    trace = trace or _trace_of(args, opname)
    types = {a.spec.dtype for a in args if isinstance(a, Var)}
    types |= {dtypes.from_numpy(np.asarray(a).dtype) for a in args if not isinstance(a, Var) and not _is_scalar(a)}
    if not types:
        types = {"f32" if any(isinstance(a, (float, np.floating)) for a in args) else "i32"}
    if len(types) > 1:
        first, second = sorted(types)[:2]
        raise TGraphTypeError(f"{opname}: mixed element types {first} and {second}; "
                              f"convert one side first, e.g. x.astype(tgraph.{first})")
    (dtype,) = types
    out = []
    for a in args:
        if isinstance(a, Var):
            out.append(a)
        elif _is_scalar(a):
            if not dtypes.is_float(dtype) and isinstance(a, (float, np.floating)) and not float(a).is_integer():
                raise TGraphTypeError(f"{opname}: the float {a} does not fit a {dtype} tensor; "
                                      "cast the tensor to a float type first")
            scalar = _Scalar(float(a), dtype, trace)
            out.append(scalar if pending_scalars else scalar.materialize())
        else:
            out.append(_constant(trace, np.asarray(a)))
    return trace, out


def _broadcast_var(x, shape):
    shape = tuple(shape)
    if isinstance(x, _Scalar):
        return x.materialize(shape)
    if x.shape == shape:
        return x
    offset = len(shape) - x.ndim
    return x.trace.emit("broadcast_in_dim", [x], dims=tuple(range(offset, len(shape))), shape=shape)


def _broadcast_all(vars_, opname):
    try:
        shape = np.broadcast_shapes(*[v.shape for v in vars_])
    except ValueError:
        types = " and ".join(str(v.spec) for v in vars_)
        raise TGraphError(f"{opname}: cannot broadcast {types}: shapes "
                          f"{' and '.join(str(v.shape) for v in vars_)} are not compatible under numpy broadcasting "
                          "(trailing dimensions must be equal or 1); reshape or transpose an operand") from None
    return [_broadcast_var(v, shape) for v in vars_]


def _elementwise(opname, *args, public=None, **attrs):
    public = public or opname
    trace, vars_ = _promote(args, public, pending_scalars=True)
    return trace.emit(opname, _broadcast_all(vars_, public), **attrs)


def _normalize_axes(x, axis, opname):
    if axis is None:
        return tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or x.ndim == 0 or not -x.ndim <= a < x.ndim:
            raise TGraphError(f"{opname}: axis {a} is out of range for {x.spec} (rank {x.ndim}); "
                              f"use an axis in [{-x.ndim}, {x.ndim - 1}]" if x.ndim else
                              f"{opname}: axis {a} given for a scalar {x.spec}, which has no axes; use axis=None")
        out.append(int(a) % x.ndim)
    if len(set(out)) != len(out):
        raise TGraphError(f"{opname}: axis {axis} repeats an axis of {x.spec}")
    return tuple(sorted(out))


# ----------------------------------------------------------------------------- elementwise
def _unary(opname, public, doc):
    @user_facing
    def fn(x):
        return _var(x, public).trace.emit(opname, [x])

    fn.__name__ = fn.__qualname__ = public
    fn.__doc__ = f"Elementwise tg.{opname}: {doc}."
    return fn


def _binary(opname, public, doc):
    @user_facing
    def fn(x, y):
        return _elementwise(opname, x, y, public=public)

    fn.__name__ = fn.__qualname__ = public
    fn.__doc__ = f"Elementwise tg.{opname}, with numpy broadcasting: {doc}."
    return fn


# One function per elementwise op record that names its public builder (exp, negative, subtract, ...).
_GENERATED = []
for _opdef in OPS.values():
    if _opdef.public:
        _make = _unary if len(_opdef.operands) == 1 else _binary
        globals()[_opdef.public] = _make(_opdef.name, _opdef.public, _opdef.doc)
        _GENERATED.append(_opdef.public)
__all__ += _GENERATED


def _comparison(direction, public):
    @user_facing
    def fn(x, y):
        return _elementwise("compare", x, y, public=public, direction=direction)

    fn.__name__ = public
    return fn


less, less_equal, greater, greater_equal, equal, not_equal = (
    _comparison(d, n) for d, n in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal"),
                                    ("eq", "equal"), ("ne", "not_equal")))


@user_facing
def where(condition, x, y):
    """Elementwise select: x where condition, else y (all three broadcast)."""
    trace = _trace_of([condition, x, y], "where")
    if not isinstance(condition, Var):
        condition = _constant(trace, np.asarray(condition))
    if condition.spec.dtype != "i1":
        raise TGraphTypeError(f"where: the condition must be boolean (i1), got {condition.spec}; compare first, e.g. x > 0")
    _, (x, y) = _promote([x, y], "where", trace, pending_scalars=True)
    condition, x, y = _broadcast_all([condition, x, y], "where")
    return trace.emit("select", [condition, x, y])


@user_facing
def clip(x, lo=None, hi=None):
    if lo is not None:
        x = maximum(x, lo)
    if hi is not None:
        x = minimum(x, hi)
    return x


# ----------------------------------------------------------------------------- reductions
def _keep(x, reduced, axes, keepdims):
    if not keepdims:
        return reduced
    return reshape(reduced, tuple(1 if i in axes else d for i, d in enumerate(x.shape)))


@user_facing
def sum(x, axis=None, keepdims=False):
    x = _var(x, "sum")
    axes = _normalize_axes(x, axis, "sum")
    return _keep(x, x.trace.emit("reduce_sum", [x], axes=axes), axes, keepdims)


@user_facing
def mean(x, axis=None, keepdims=False):
    x = _var(x, "mean")
    if not dtypes.is_float(x.spec.dtype):
        raise TGraphTypeError(f"mean: {x.spec} is not floating-point; cast it first, e.g. x.astype(tgraph.f32)")
    axes = _normalize_axes(x, axis, "mean")
    count = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    if count == 0:  # 0 / 0: NaN, as numpy, which warns alike
        warnings.warn("mean of an empty axis is NaN", RuntimeWarning, stacklevel=3)
    return sum(x, axis=axes, keepdims=keepdims) / float(count)


@user_facing
def max(x, axis=None, keepdims=False):
    x = _var(x, "max")
    axes = _normalize_axes(x, axis, "max")
    return _keep(x, x.trace.emit("reduce_max", [x], axes=axes), axes, keepdims)


@user_facing
def min(x, axis=None, keepdims=False):
    return negative(max(negative(x), axis=axis, keepdims=keepdims))


# ----------------------------------------------------------------------------- shape
@user_facing
def reshape(x, shape):
    x = _var(x, "reshape")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if shape.count(-1) > 1:
        raise TGraphError(f"reshape: at most one dimension may be -1, got {shape}")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or x.size % known:
            raise TGraphError(f"reshape: cannot reshape {x.spec} ({x.size} elements) to {shape}")
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise TGraphError(f"reshape: cannot reshape {x.spec} ({x.size} elements) to shape {shape} "
                          f"({int(np.prod(shape, dtype=np.int64))} elements)")
    if shape == x.shape:
        return x
    return x.trace.emit("reshape", [x], shape=shape)


@user_facing
def transpose(x, axes=None):
    x = _var(x, "transpose")
    perm = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) % x.ndim if x.ndim else a for a in axes)
    if sorted(perm) != list(range(x.ndim)):
        raise TGraphError(f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} axes of {x.spec}")
    if perm == tuple(range(x.ndim)):
        return x
    return x.trace.emit("transpose", [x], permutation=perm)


@user_facing
def flip(x, axis=None):
    """Reverse the order of elements along `axis` (all axes when None), as numpy.flip."""
    x = _var(x, "flip")
    axes = _normalize_axes(x, axis, "flip")
    return x.trace.emit("reverse", [x], axes=axes) if axes else x


@user_facing
def broadcast_to(x, shape):
    x = _var(x, "broadcast_to")
    shape = tuple(shape)
    try:
        ok = np.broadcast_shapes(x.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise TGraphError(f"broadcast_to: cannot broadcast {x.spec} to shape {shape} under numpy broadcasting")
    return _broadcast_var(x, shape)


@user_facing
def concatenate(xs, axis=0):
    xs = list(xs)
    trace, xs = _promote(xs, "concatenate")
    first = xs[0]
    if first.ndim == 0:
        raise TGraphError("concatenate: zero-dimensional Vars cannot be concatenated; reshape them to (1,) first")
    axis = _normalize_axes(first, axis, "concatenate")[0]
    for i, x in enumerate(xs[1:], 1):
        if x.ndim != first.ndim or any(a != b for k, (a, b) in enumerate(zip(x.shape, first.shape)) if k != axis):
            raise TGraphError(f"concatenate: input {i} {x.spec} does not match input 0 {first.spec} "
                              f"in the dimensions other than axis {axis}")
    out = first
    for x in xs[1:]:
        out = trace.emit("concat", [out, x], axis=axis)
    return out


@user_facing
def pad(x, pad_width, value=0.0, interior=None):
    """numpy-style pad_width [(before, after), ...] (negative crops), with an optional interior padding."""
    x = _var(x, "pad")
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    interior = (0,) * x.ndim if interior is None else tuple(interior)
    return x.trace.emit("pad", [x], low=tuple(pw[:, 0]), high=tuple(pw[:, 1]), interior=interior, value=float(value))


@user_facing
def slice(x, start, limit, stride=None):
    """tg.slice: x[start:limit:stride] per dimension."""
    x = _var(x, "slice")
    stride = (1,) * x.ndim if stride is None else tuple(stride)
    return x.trace.emit("slice", [x], start=tuple(start), limit=tuple(limit), stride=stride)


def _getitem(x, index):
    index = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in index):
        at = index.index(Ellipsis)
        used = len([i for i in index if i is not None and i is not Ellipsis])
        index = index[:at] + (builtins.slice(None),) * (x.ndim - used) + index[at + 1:]
    start, limit, stride, final, dim = [], [], [], [], 0
    for i in index:
        if i is None:
            final.append(1)
            continue
        if dim >= x.ndim:
            raise TGraphError(f"too many indices for {x.spec}: {len([j for j in index if j is not None])} given, rank {x.ndim}")
        size = x.shape[dim]
        if isinstance(i, (int, np.integer)):
            if not -size <= i < size:
                raise TGraphError(f"index {i} is out of range for dimension {dim} of {x.spec} (size {size})")
            i = int(i) % size
            start.append(i), limit.append(i + 1), stride.append(1)
        elif isinstance(i, builtins.slice):
            if i.step is not None and i.step <= 0:
                raise TGraphError(f"slice step {i.step} in dimension {dim}: only positive steps are supported")
            s, l, st = i.indices(size)
            l = builtins.max(l, s)
            start.append(s), limit.append(l), stride.append(st)
            final.append(len(range(s, l, st)))
        else:
            raise TGraphTypeError(f"unsupported index {i!r}: use ints, slices with positive steps, ... and None; "
                                  "for a lookup by index tensor use tgraph.embedding")
        dim += 1
    for d in range(dim, x.ndim):
        start.append(0), limit.append(x.shape[d]), stride.append(1), final.append(x.shape[d])
    out = x
    if (tuple(start), tuple(limit), tuple(stride)) != ((0,) * x.ndim, x.shape, (1,) * x.ndim):
        out = x.trace.emit("slice", [x], start=tuple(start), limit=tuple(limit), stride=tuple(stride))
    return reshape(out, tuple(final))




# ----------------------------------------------------------------------------- contraction
def _preferred_type(preferred_element_type, operand):
    """A contraction's preferred_element_type ('f32', tgraph.f32, np.float32) as the op's attribute:
    None when not given or when it is the operands' own type (the op's default meaning)."""
    if preferred_element_type is None:
        return None
    dtype = dtypes.dtype_name(preferred_element_type)
    return None if dtype == operand.spec.dtype else dtype


@user_facing
def dot_general(lhs, rhs, contracting, batch=((), ()), preferred_element_type=None):
    """tg.dot_general: contracting=(lhs dims, rhs dims), batch=(lhs dims, rhs dims).
    preferred_element_type: sum the products in, and return, that wider type (f32 for bf16 operands)."""
    trace, (lhs, rhs) = _promote([lhs, rhs], "dot_general")
    return trace.emit("dot_general", [lhs, rhs], lhs_batch=tuple(batch[0]), rhs_batch=tuple(batch[1]),
                      lhs_contract=tuple(contracting[0]), rhs_contract=tuple(contracting[1]),
                      preferred_element_type=_preferred_type(preferred_element_type, lhs))


@user_facing
def matmul(a, b, preferred_element_type=None):
    """numpy.matmul: vectors, matrices, and stacks of matrices with broadcast batch dimensions.
    preferred_element_type: sum the products in, and return, that wider type (f32 for bf16 operands:
    mixed precision, as jax.lax.dot's)."""
    trace, (a, b) = _promote([a, b], "matmul")
    preferred = _preferred_type(preferred_element_type, a)
    if a.ndim == 0 or b.ndim == 0:
        raise TGraphError(f"matmul: operands must have at least one dimension, got {a.spec} and {b.spec}; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise TGraphError(
            f"matmul: inner dimensions differ: {a.spec} @ {b.spec} contracts {k_a} (last dimension of the left) "
            f"with {k_b} ({'only' if b.ndim == 1 else 'second-to-last'} dimension of the right); "
            "transpose an operand (x.T) or fix its shape")
    if a.ndim == 1 or b.ndim == 1:
        if a.ndim == 1 and b.ndim == 1:
            return trace.emit("dot_general", [a, b], lhs_batch=(), rhs_batch=(), lhs_contract=(0,), rhs_contract=(0,),
                              preferred_element_type=preferred)
        a2 = reshape(a, (1, k_a)) if a.ndim == 1 else a
        b2 = reshape(b, (k_b, 1)) if b.ndim == 1 else b
        out = matmul(a2, b2, preferred)
        shape = out.shape[:-2] + (() if a.ndim == 1 else out.shape[-2:-1]) + (() if b.ndim == 1 else out.shape[-1:])
        return reshape(out, shape)
    if a.ndim == 2 and b.ndim == 2:
        return trace.emit("dot_general", [a, b], lhs_batch=(), rhs_batch=(), lhs_contract=(1,), rhs_contract=(0,),
                          preferred_element_type=preferred)
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise TGraphError(f"matmul: batch dimensions of {a.spec} and {b.spec} do not broadcast "
                          f"({a.shape[:-2]} and {b.shape[:-2]})") from None
    a = _broadcast_var(a, batch + a.shape[-2:])
    b = _broadcast_var(b, batch + b.shape[-2:])
    nb = len(batch)
    return trace.emit("dot_general", [a, b], lhs_batch=tuple(range(nb)), rhs_batch=tuple(range(nb)),
                      lhs_contract=(nb + 1,), rhs_contract=(nb,), preferred_element_type=preferred)


# ----------------------------------------------------------------------------- convolution
def _pair(v, name, opname):
    v = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(v) != 2:
        raise TGraphError(f"{opname}: {name} must be an int or a pair, got {v}")
    return tuple(int(i) for i in v)


def _padding4(padding, opname):
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) == 2:
        return (padding[0], padding[0], padding[1], padding[1])
    if len(padding) == 4:
        return padding
    raise TGraphError(f"{opname}: padding must be an int, (pad_h, pad_w) or (top, bottom, left, right), got {padding}")


def bias_in_result_type(bias, out, preferred_element_type):
    """The bias of a contraction given a preferred_element_type, converted to its result's type (a
    bf16 bias added to an f32 result); without one, as given."""
    if preferred_element_type is None or _is_scalar(bias):
        return bias
    if isinstance(bias, Var):
        return cast(bias, out.spec.dtype)
    return np.asarray(bias).astype(out.spec.np_dtype)


@user_facing
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, preferred_element_type=None):
    """PyTorch's conv2d: x NCHW, weight OIHW, optional bias of shape (O,). preferred_element_type:
    sum the products in, and return, that wider type (f32 for bf16 operands); the bias is added in it."""
    trace, (x, weight) = _promote([x, weight], "conv2d")
    if x.ndim != 4 or weight.ndim != 4:
        raise TGraphError(f"conv2d: input must be NCHW and weight OIHW (both rank 4), got {x.spec} and {weight.spec}")
    preferred = _preferred_type(preferred_element_type, x)
    out = trace.emit("conv2d", [x, weight], stride=_pair(stride, "stride", "conv2d"),
                     padding=_padding4(padding, "conv2d"), lhs_dilation=(1, 1),
                     rhs_dilation=_pair(dilation, "dilation", "conv2d"), groups=int(groups),
                     preferred_element_type=preferred)
    if bias is not None:
        out = out + reshape(bias_in_result_type(bias, out, preferred_element_type), (1, -1, 1, 1))
    return out


def _pool(opname, x, kernel_size, stride, padding):
    x = _var(x, opname)
    kernel = _pair(kernel_size, "kernel_size", opname)
    stride = kernel if stride is None else _pair(stride, "stride", opname)
    return x.trace.emit(opname, [x], kernel=kernel, stride=stride, padding=_padding4(padding, opname))


@user_facing
def max_pool2d(x, kernel_size, stride=None, padding=0):
    """PyTorch's max_pool2d on NCHW (stride defaults to the kernel size)."""
    return _pool("max_pool2d", x, kernel_size, stride, padding)


@user_facing
def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """PyTorch's avg_pool2d on NCHW (count_include_pad=True)."""
    return _pool("avg_pool2d", x, kernel_size, stride, padding)


# ----------------------------------------------------------------------------- indexing
@user_facing
def set_row(table, row, index):
    """`table` with row `index` (an integer scalar, clamped into range) replaced by `row`: the
    functional `table.at[index].set(row)` (jax.lax.dynamic_update_index_in_dim on axis 0)."""
    trace = _trace_of([table, row, index], "set_row")
    table, row, index = (x if isinstance(x, Var) else _constant(trace, np.asarray(x)) for x in (table, row, index))
    return trace.emit("set_row", [table, row, index])


@user_facing
def embedding(indices, table):
    """PyTorch's embedding: rows of `table` picked by the integer `indices` (clamped into range)."""
    trace = _trace_of([indices, table], "embedding")
    if not isinstance(indices, Var):
        indices = _constant(trace, np.asarray(indices))
    if not isinstance(table, Var):
        table = _constant(trace, np.asarray(table))
    if indices.spec.dtype not in ("i32", "i64"):
        raise TGraphTypeError(f"embedding: indices must be i32 or i64, got {indices.spec}")
    return trace.emit("gather", [table, indices])


@user_facing
def scatter_add(indices, updates, rows):
    """Zeros of `rows` rows plus each update row added at its index (the transpose of embedding)."""
    trace = _trace_of([indices, updates], "scatter_add")
    return trace.emit("scatter_add", [_var(indices, "scatter_add"), _var(updates, "scatter_add")], rows=int(rows))


# ----------------------------------------------------------------------------- conversion, constants, random
@user_facing
def cast(x, dtype):
    x = _var(x, "cast")
    dtype = dtypes.dtype_name(dtype)
    return x if dtype == x.spec.dtype else x.trace.emit("cast", [x], dtype=dtype)


@user_facing
def stop_gradient(x):
    """The identity, but derivatives treat the result as a constant (PyTorch's detach)."""
    return _var(x, "stop_gradient").trace.emit("stop_gradient", [x])


@user_facing
def optimization_barrier(x):
    """The identity, which the compiler does not see through: ops on the result are not merged
    with the same ops on `x` (what keeps tgraph.checkpoint's recomputation a recomputation)."""
    return _var(x, "optimization_barrier").trace.emit("optimization_barrier", [x])


@user_facing
def constant(value, like):
    """A constant array in the graph of `like`."""
    return _constant(_trace_of([like], "constant"), np.asarray(value))


@user_facing
def full(shape, value, dtype, like):
    """A splat constant in the graph of `like`."""
    trace = _trace_of([like], "full")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return trace.emit("splat", [], value=float(value), shape=shape, dtype=dtypes.dtype_name(dtype))


@user_facing
def zeros_like(x):
    x = _var(x, "zeros_like")
    return x.trace.emit("splat", [], value=0.0, shape=x.shape, dtype=x.spec.dtype)


@user_facing
def ones_like(x):
    x = _var(x, "ones_like")
    return x.trace.emit("splat", [], value=1.0, shape=x.shape, dtype=x.spec.dtype)


def zeros(shape, dtype, like):
    return full(shape, 0.0, dtype, like)


def ones(shape, dtype, like):
    return full(shape, 1.0, dtype, like)


def _key(key, like, opname):
    if isinstance(key, Var):
        return key
    trace = _trace_of([like], opname)
    return _constant(trace, np.asarray(key, dtype=np.int64).reshape(()))


@user_facing
def uniform(key, shape, dtype="f32", like=None):
    """Uniform [0, 1) numbers from an integer key (a scalar i32/i64 Var, or an int with `like` given)."""
    key = _key(key, like if like is not None else key, "uniform")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return key.trace.emit("random_uniform", [key], shape=shape, dtype=dtypes.dtype_name(dtype))


@user_facing
def bernoulli(key, p, shape, like=None):
    """A boolean mask, True with probability p, from an integer key."""
    key = _key(key, like if like is not None else key, "bernoulli")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not 0.0 <= float(p) <= 1.0:
        raise TGraphError(f"bernoulli: probability {p} must be in [0, 1]")
    return key.trace.emit("bernoulli", [key], p=float(p), shape=shape)


# ----------------------------------------------------------------------------- Var operators
def _swap(fn):
    return lambda self, other: fn(other, self)


Var.__add__, Var.__radd__ = add, _swap(add)
Var.__sub__, Var.__rsub__ = subtract, _swap(subtract)
Var.__mul__, Var.__rmul__ = multiply, _swap(multiply)
Var.__truediv__, Var.__rtruediv__ = divide, _swap(divide)
Var.__pow__, Var.__rpow__ = power, _swap(power)
Var.__matmul__, Var.__rmatmul__ = matmul, _swap(matmul)
Var.__neg__ = negative
Var.__pos__ = lambda self: self
Var.__abs__ = abs
Var.__lt__, Var.__le__, Var.__gt__, Var.__ge__ = less, less_equal, greater, greater_equal
Var.__eq__, Var.__ne__ = equal, not_equal
Var.__getitem__ = user_facing(_getitem)
Var.T = property(lambda self: transpose(self))
Var.reshape = lambda self, *shape: reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
# numpy's forms: x.transpose(1, 0) and x.transpose((1, 0)).
Var.transpose = lambda self, *axes: transpose(self, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes or None)


def _method_reduction(fn):
    """x.sum(axis, keepdims); numpy's np.sum(x) calls x.sum(axis=, dtype=, out=), which is refused."""
    def method(self, axis=None, keepdims=False, **numpy_only):
        if numpy_only:
            raise TGraphTypeError(f"np.{fn.__name__} cannot run on a traced Var: numpy functions need arrays; "
                                  f"use tgraph.{fn.__name__}(x, axis=...) (or x.{fn.__name__}(...)) instead")
        return fn(self, axis, keepdims)
    return method


Var.sum, Var.mean, Var.max, Var.min = (_method_reduction(f) for f in (sum, mean, max, min))
Var.astype = lambda self, dtype: cast(self, dtype)
