"""How each StableHLO op becomes tg ops (tg-import-stablehlo's table): `RULES[name](em, op, args)`
returns the new values of the op's results, built with the Emitter at the op's place; `args` are
its operands (already converted). An op without a rule, or a form a rule cannot take, is a
PassFailure naming it at its location.

Most rules are one tg op (StableHLO and tg share shapes and semantics); the others compose tg ops:
clamp, is_finite, boolean and/or/xor/not, reductions with min/and/or bodies, reduce_window (pools,
and general windows as sums or maxima of strided slices), the gathers `take_along_axis` and row
indexing write, dynamic slices of one row (scan's xs and ys), convolutions in any layout (moved to
NCHW/OIHW around tg.conv2d). Control flow (while, case) is in tg_import_stablehlo.py."""

import numpy as np

from tgraph.dialect import OPS, VerifyError, spec_of
from tgraph.dialect.ad import Emitter
from tgraph.support.dtypes import TensorSpec, is_float
from tgraph.support.mlir import ir

from .base import PassFailure

try:  # the StableHLO attribute wrappers (the bindings' _stablehlo module)
    from tgraph.support.mlir import stablehlo_module
    stablehlo = stablehlo_module()
except ImportError:  # without them no StableHLO module can be parsed either
    stablehlo = None

ONE_TO_ONE = {
    "add": "add", "subtract": "sub", "multiply": "mul", "divide": "div", "maximum": "maximum",
    "minimum": "minimum", "power": "pow", "negate": "neg", "abs": "abs", "exponential": "exp", "log": "log",
    "sqrt": "sqrt", "rsqrt": "rsqrt", "tanh": "tanh", "sine": "sin", "cosine": "cos", "log_plus_one": "log1p",
    "exponential_minus_one": "expm1", "logistic": "sigmoid", "select": "select",
}
FLOAT_ONLY = {"divide", "power", "exponential", "log", "sqrt", "rsqrt", "tanh", "sine", "cosine", "log_plus_one",
              "exponential_minus_one", "logistic"}
DIRECTIONS = {"LT": "lt", "LE": "le", "GT": "gt", "GE": "ge", "EQ": "eq", "NE": "ne"}
MAX_WINDOW_POSITIONS = 1024  # a general reduce_window is one strided slice per window position


def fail(op, message):
    raise PassFailure(f"{op.name} {message}", op.location)


def spec(value):
    return spec_of(value.type)


def result_spec(op, k=0):
    try:
        return spec_of(op.results[k].type)
    except Exception:  # noqa: BLE001 - a type tg has no dtype for (ui32, complex, tokens)
        fail(op, f"has a result of type {op.results[k].type}, which tg does not have (tensors of f16, bf16, f32, "
                 "f64, i1, i32 or i64)")


def ints(op, name, default=None):
    """A dense i64 array attribute (or i64 elements) as a list of ints; `default` when absent."""
    if name not in op.attributes:
        if default is None:
            fail(op, f"lacks its attribute {name}")
        return list(default)
    attr = op.attributes[name]
    try:
        return list(ir.DenseI64ArrayAttr(attr))
    except (ValueError, TypeError):
        return [int(v) for v in np.array(ir.DenseIntElementsAttr(attr)).reshape(-1)]


def bools(op, name):
    if name not in op.attributes:
        return []
    return [bool(v) for v in ir.DenseBoolArrayAttr(op.attributes[name])]


def constant_value(value):
    """The numpy array a constant (a tg.constant or tg.splat converted from stablehlo.constant) holds, or None."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    owner = getattr(owner, "operation", owner)
    if owner.name == "tg.splat":
        attrs = OPS["splat"].decode_attrs(owner)
        return np.full(attrs["shape"], attrs["value"], TensorSpec(attrs["shape"], attrs["dtype"]).np_dtype)
    if owner.name == "tg.constant":
        return OPS["constant"].decode_attrs(owner)["value"]
    if owner.name in ("tg.broadcast_in_dim", "tg.reshape"):  # of a splat: a splat of the result's shape
        inner = constant_value(owner.operands[0])
        if inner is not None and inner.size and (inner == inner.flat[0]).all():
            s = spec(owner.results[0])
            return np.full(s.shape, inner.flat[0], s.np_dtype)
    return None


def splat_like(em, value, number):
    s = spec(value)
    return em.splat(value=float(number), shape=s.shape, dtype=s.dtype)


def broadcast_to(em, value, shape):
    """A scalar (rank 0) broadcast to `shape`; anything else as it is."""
    if spec(value).shape == tuple(shape) or spec(value).rank:
        return value
    return em.broadcast_in_dim(value, dims=(), shape=tuple(shape))


# ----------------------------------------------------------------------------- elementwise
def _one_to_one(name):
    def rule(em, op, args):
        if (op.name.split(".")[1] in FLOAT_ONLY or name == "erf") and not is_float(result_spec(op).dtype):
            fail(op, f"on {result_spec(op).dtype} is not supported (tg computes it on floats only)")
        if name == "select":
            shape = result_spec(op).shape
            args = [broadcast_to(em, args[0], shape), *args[1:]]
        return [getattr(em, name)(*args)]
    return rule


def _compare(em, op, args):
    direction = stablehlo.ComparisonDirectionAttr(op.attributes["comparison_direction"]).value
    if "compare_type" in op.attributes and stablehlo.ComparisonTypeAttr(op.attributes["compare_type"]).value \
            == "TOTALORDER":
        fail(op, "with compare_type TOTALORDER is not supported (tg compares floats as IEEE does)")
    return [em.compare(*args, direction=DIRECTIONS[direction])]


def _convert(em, op, args):
    dtype = result_spec(op).dtype
    return [args[0] if spec(args[0]).dtype == dtype else em.cast(args[0], dtype=dtype)]


def _clamp(em, op, args):
    low, x, high = args
    shape = spec(x).shape
    return [em.minimum(em.maximum(x, broadcast_to(em, low, shape)), broadcast_to(em, high, shape))]


def _is_finite(em, op, args):
    (x,) = args
    return [em.compare(em.abs(x), splat_like(em, x, np.inf), direction="lt")]  # false for inf and NaN


def _boolean(kind):
    """and / or / xor / not on i1 as selects; integer bit operations are not supported."""
    def rule(em, op, args):
        if spec(args[0]).dtype != "i1":
            fail(op, f"on {spec(args[0]).dtype} (integer bit operations, as JAX's threefry random numbers use) is "
                     "not supported; tg's own random numbers are tgraph.uniform and tgraph.bernoulli")
        true, false = splat_like(em, args[0], 1), splat_like(em, args[0], 0)
        if kind == "not":
            return [em.select(args[0], false, true)]
        a, b = args
        if kind == "and":
            return [em.select(a, b, false)]
        if kind == "or":
            return [em.select(a, true, b)]
        return [em.select(a, em.select(b, false, true), b)]  # xor
    return rule


def _passthrough(em, op, args):
    return [em.optimization_barrier(a) for a in args]


# ----------------------------------------------------------------------------- constants and shapes
def _constant(em, op, args):
    attr = op.attributes["value"]
    s = result_spec(op)
    try:
        array = np.asarray(OPS["constant"].attrs["value"].decode(attr)).astype(s.np_dtype).reshape(s.shape)
    except Exception:  # noqa: BLE001 - resources and types numpy cannot read
        fail(op, f"holds a value tg cannot read ({str(attr)[:60]}); pass such weights as arguments")
    if array.size and (array == array.flat[0]).all() and s.dtype != "i1":
        return [em.splat(value=float(array.flat[0]), shape=s.shape, dtype=s.dtype)]
    return [em.constant(value=array)]


def _iota(em, op, args):
    s = result_spec(op)
    dimension = ir.IntegerAttr(op.attributes["iota_dimension"]).value
    if s.dtype in ("i32", "i64", "f32", "f64"):
        return [em.iota(shape=s.shape, dtype=s.dtype, dimension=dimension)]
    return [em.cast(em.iota(shape=s.shape, dtype="i32", dimension=dimension), dtype=s.dtype)]


def _broadcast_in_dim(em, op, args):
    (x,) = args
    value, out = constant_value(x), result_spec(op)
    if value is not None and value.size and (value == value.flat[0]).all() and out.dtype != "i1":
        return [em.splat(value=float(value.flat[0]), shape=out.shape, dtype=out.dtype)]  # a splat, broadcast
    dims = ints(op, "broadcast_dimensions")
    order = sorted(range(len(dims)), key=lambda i: dims[i])
    if order != list(range(len(dims))):  # tg's dims increase: transpose the operand to that order first
        x = em.transpose(x, permutation=tuple(order))
        dims = [dims[i] for i in order]
    return [em.broadcast_in_dim(x, dims=tuple(dims), shape=result_spec(op).shape)]


def _reshape(em, op, args):
    return [em.reshape(args[0], shape=result_spec(op).shape)]


def _transpose(em, op, args):
    return [em.transpose(args[0], permutation=tuple(ints(op, "permutation")))]


def _reverse(em, op, args):
    return [em.reverse(args[0], axes=tuple(ints(op, "dimensions")))]


def _slice(em, op, args):
    return [em.slice(args[0], start=tuple(ints(op, "start_indices")), limit=tuple(ints(op, "limit_indices")),
                     stride=tuple(ints(op, "strides")))]


def _concatenate(em, op, args):
    axis = ir.IntegerAttr(op.attributes["dimension"]).value
    out = args[0]
    for a in args[1:]:
        out = em.concat(out, a, axis=axis)
    return [out]


def _pad(em, op, args):
    x, padding = args
    value = constant_value(padding)
    if value is None:
        fail(op, "with a padding value computed at run time is not supported (tg pads with a constant)")
    return [em.pad(x, low=tuple(ints(op, "edge_padding_low")), high=tuple(ints(op, "edge_padding_high")),
                   interior=tuple(ints(op, "interior_padding")), value=float(value.reshape(-1)[0]))]


# ----------------------------------------------------------------------------- contractions
def _dot_general(em, op, args):
    numbers = stablehlo.DotDimensionNumbers(op.attributes["dot_dimension_numbers"])
    lhs, rhs = args
    out_dtype, in_dtype = result_spec(op).dtype, spec(lhs).dtype
    if spec(rhs).dtype != in_dtype:
        fail(op, f"of {in_dtype} and {spec(rhs).dtype} operands is not supported (tg contracts one element type)")
    return [em.dot_general(lhs, rhs, lhs_batch=tuple(numbers.lhs_batching_dimensions),
                           rhs_batch=tuple(numbers.rhs_batching_dimensions),
                           lhs_contract=tuple(numbers.lhs_contracting_dimensions),
                           rhs_contract=tuple(numbers.rhs_contracting_dimensions),
                           preferred_element_type=None if out_dtype == in_dtype else out_dtype)]


def _padding_pairs(op, rank):
    if "padding" not in op.attributes:
        return [(0, 0)] * rank
    flat = [int(v) for v in np.array(ir.DenseIntElementsAttr(op.attributes["padding"])).reshape(-1)]
    return list(zip(flat[::2], flat[1::2]))


def _convolution(em, op, args):
    x, w = args
    n = stablehlo.ConvDimensionNumbers(op.attributes["dimension_numbers"])
    spatial = list(n.input_spatial_dimensions)
    if len(spatial) != 2:
        fail(op, f"with {len(spatial)} spatial dimensions is not supported (tg.conv2d has 2)")
    if "batch_group_count" in op.attributes and ir.IntegerAttr(op.attributes["batch_group_count"]).value != 1:
        fail(op, "with batch_group_count > 1 is not supported (import the forward function and let tgraph "
                 "differentiate it)")
    if any(bools(op, "window_reversal")):
        fail(op, "with window_reversal is not supported")
    pads = _padding_pairs(op, 2)
    if any(p < 0 for pair in pads for p in pair):
        fail(op, f"with negative padding {pads} is not supported")
    to_nchw = (n.input_batch_dimension, n.input_feature_dimension, *spatial)
    to_oihw = (n.kernel_output_feature_dimension, n.kernel_input_feature_dimension, *n.kernel_spatial_dimensions)
    x = x if to_nchw == (0, 1, 2, 3) else em.transpose(x, permutation=tuple(to_nchw))
    w = w if to_oihw == (0, 1, 2, 3) else em.transpose(w, permutation=tuple(to_oihw))
    out_dtype, in_dtype = result_spec(op).dtype, spec(x).dtype
    y = em.conv2d(x, w, stride=tuple(ints(op, "window_strides", (1, 1))),
                  padding=(pads[0][0], pads[0][1], pads[1][0], pads[1][1]),
                  lhs_dilation=tuple(ints(op, "lhs_dilation", (1, 1))),
                  rhs_dilation=tuple(ints(op, "rhs_dilation", (1, 1))),
                  groups=ir.IntegerAttr(op.attributes["feature_group_count"]).value,
                  preferred_element_type=None if out_dtype == in_dtype else out_dtype)
    from_nchw = (n.output_batch_dimension, n.output_feature_dimension, *n.output_spatial_dimensions)
    if from_nchw == (0, 1, 2, 3):
        return [y]
    inverse = [0] * 4
    for i, d in enumerate(from_nchw):  # NCHW dimension i is the output's dimension d
        inverse[d] = i
    return [em.transpose(y, permutation=tuple(inverse))]


# ----------------------------------------------------------------------------- reductions
def _body_op(op):
    """The one combining op of a reduction's region (add, maximum, ...), or a PassFailure."""
    block = op.regions[0].blocks[0]
    ops = [o for o in block.operations if o.name not in ("stablehlo.return", "func.return")]
    if len(ops) != 1 or len(op.results) != 1:
        kinds = ", ".join(o.name for o in ops) or "nothing"
        fail(op, f"with {len(op.results)} results and a body of {kinds} is not supported (tg reduces one operand "
                 "with add, maximum, minimum, and or or: argmax and argmin reduce two)")
    return ops[0].name.split(".")[-1]


def _identity(kind, dtype):
    if kind == "add" or kind == "or":
        return 0
    if kind == "and":
        return 1
    big = np.inf if is_float(dtype) else np.iinfo(TensorSpec((), dtype).np_dtype).max
    return -big if kind == "maximum" else big


def _reduce_axes(em, x, kind, axes, op):
    """x reduced over `axes` with `kind` (the StableHLO body's op)."""
    dtype = spec(x).dtype
    axes = tuple(axes)
    if kind in ("and", "or"):
        if dtype != "i1":
            fail(op, f"with a bitwise {kind} body on {dtype} is not supported")
        as_int = em.cast(x, dtype="i32")
        reduced = em.reduce_max(as_int, axes=axes) if kind == "or" else em.neg(em.reduce_max(em.neg(as_int), axes=axes))
        return em.compare(reduced, splat_like(em, reduced, 0), direction="ne")
    if kind == "add":
        return em.reduce_sum(x, axes=axes)
    if kind == "maximum":
        return em.reduce_max(x, axes=axes)
    if kind == "minimum":
        return em.neg(em.reduce_max(em.neg(x), axes=axes))
    fail(op, f"with a {kind} body is not supported (tg reduces with add, maximum, minimum, and, or)")


def _combine(em, kind, a, b):
    return {"add": em.add, "maximum": em.maximum, "minimum": em.minimum}[kind](a, b)


def _with_init(em, op, kind, reduced, init):
    """Combine with the init value where it is not the reduction's identity."""
    value = constant_value(init)
    if value is not None and value.reshape(-1)[0] == _identity(kind, spec(init).dtype):
        return reduced
    if kind in ("and", "or"):
        fail(op, "with an init value other than its identity is not supported")
    return _combine(em, kind, reduced, broadcast_to(em, init, spec(reduced).shape))


def _arg_reduce(em, op, args):
    """A reduction of (values, indices) whose body keeps the larger (GT) or smaller (LT) value and,
    on ties, the smaller index: argmax and argmin as JAX writes them. The result is the extreme
    value and the smallest index holding it; a NaN counts as the extreme (its first index), as in JAX."""
    body = [o for o in op.regions[0].blocks[0].operations if o.name not in ("stablehlo.return", "func.return")]
    directions = {stablehlo.ComparisonDirectionAttr(o.attributes["comparison_direction"]).value
                  for o in body if o.name == "stablehlo.compare"}
    axes = tuple(ints(op, "dimensions"))
    values, indices, init_value, init_index = args
    start = constant_value(init_index)
    if len(axes) != 1 or not (directions & {"GT", "LT"}) or start is None or start.reshape(-1)[0] != 0 \
            or spec(values).shape != spec(indices).shape:
        fail(op, "with 2 operands is supported as argmax or argmin over one axis only")
    largest = "GT" in directions
    extreme = em.reduce_max(values, axes=axes) if largest else em.neg(em.reduce_max(em.neg(values), axes=axes))
    shape, kept = spec(values).shape, tuple(d for d in range(spec(values).rank) if d not in axes)
    wide = em.broadcast_in_dim(extreme, dims=kept, shape=shape)
    hit = em.compare(values, wide, direction="eq")
    if is_float(spec(values).dtype):  # a NaN is the extreme: maximumf propagated it into `extreme`
        hit = em.select(em.compare(values, values, direction="ne"), splat_like(em, hit, 1), hit)
    # larger than any index, and exact as the f64 a splat holds
    big = {"i32": 2 ** 31 - 1, "i64": 2 ** 62}.get(spec(indices).dtype, np.inf)
    candidates = em.select(hit, indices, splat_like(em, indices, big))
    return [extreme, em.neg(em.reduce_max(em.neg(candidates), axes=axes))]


def _reduce(em, op, args):
    if len(op.results) == 2 and len(args) == 4:
        return _arg_reduce(em, op, args)
    kind = _body_op(op)
    x, init = args
    reduced = _reduce_axes(em, x, kind, ints(op, "dimensions"), op)
    return [_with_init(em, op, kind, reduced, init)]


def _reduce_window(em, op, args):
    kind = _body_op(op)
    x, init = args
    s = spec(x)
    window = ints(op, "window_dimensions")
    strides = ints(op, "window_strides", [1] * s.rank)
    if any(d != 1 for d in ints(op, "base_dilations", [1] * s.rank) + ints(op, "window_dilations", [1] * s.rank)):
        fail(op, "with dilations is not supported")
    pads = _padding_pairs(op, s.rank)
    value = constant_value(init)
    fill = float(value.reshape(-1)[0]) if value is not None else None
    pooled = [d for d in range(s.rank) if window[d] != 1 or strides[d] != 1 or pads[d] != (0, 0)]
    if kind == "maximum" and s.rank == 4 and pooled and set(pooled) <= {2, 3} and fill == -np.inf \
            and is_float(s.dtype):
        return [em.max_pool2d(x, kernel=tuple(window[2:]), stride=tuple(strides[2:]),
                              padding=(pads[2][0], pads[2][1], pads[3][0], pads[3][1]))]
    if kind not in ("add", "maximum", "minimum"):
        fail(op, f"with a {kind} body is not supported")
    positions = int(np.prod(window))
    if positions > MAX_WINDOW_POSITIONS:
        fail(op, f"with a window of {positions} positions is not supported (at most {MAX_WINDOW_POSITIONS})")
    if fill is None and any(p != (0, 0) for p in pads):
        fail(op, "with padding and an init value computed at run time is not supported")
    # StableHLO pads with the init value, and reduces each window starting from it.
    padded = x if all(p == (0, 0) for p in pads) else em.pad(
        x, low=tuple(p[0] for p in pads), high=tuple(p[1] for p in pads), interior=(0,) * s.rank, value=fill)
    out_shape = result_spec(op).shape
    total = None
    for offset in np.ndindex(*window):  # the window's positions: one strided slice of the padded input each
        start = tuple(offset)
        limit = tuple(o + (n - 1) * st + 1 for o, n, st in zip(offset, out_shape, strides))
        part = em.slice(padded, start=start, limit=limit, stride=tuple(strides))
        total = part if total is None else _combine(em, kind, total, part)
    return [_with_init(em, op, kind, total, init)]


# ----------------------------------------------------------------------------- indexing
def _gather(em, op, args):
    operand, indices = args
    g = stablehlo.GatherDimensionNumbers(op.attributes["dimension_numbers"])
    s, out = spec(operand), result_spec(op)
    sizes = ints(op, "slice_sizes")
    index_vector_dim = g.index_vector_dim
    batching, start_map = list(g.operand_batching_dims), list(g.start_index_map)
    if len(start_map) != 1 or spec(indices).shape[index_vector_dim:index_vector_dim + 1] not in ((1,), ()):
        fail(op, f"with start_index_map {start_map} is not supported (tg gathers along one dimension)")
    axis = start_map[0]
    index = indices if index_vector_dim >= spec(indices).rank else \
        em.reshape(indices, shape=tuple(d for i, d in enumerate(spec(indices).shape) if i != index_vector_dim))
    if not batching and axis == 0 and list(g.collapsed_slice_dims) == [0] and sizes == [1, *s.shape[1:]]:
        rows = em.gather(operand, index)  # x[indices]: rows of the table
        return [rows if spec(rows).shape == out.shape else em.reshape(rows, shape=out.shape)]
    if sorted(batching + [axis]) == list(range(s.rank)) and list(g.collapsed_slice_dims) == [axis] \
            and all(sizes[d] == 1 for d in range(s.rank)):
        return [_take_along_axis(em, operand, index, axis, batching, list(g.start_indices_batching_dims), out, op)]
    fail(op, f"in this form (offset_dims {list(g.offset_dims)}, collapsed {list(g.collapsed_slice_dims)}, batching "
             f"{batching}, start_index_map {start_map}, slice_sizes {sizes}) is not supported: tg converts row "
             "indexing (x[indices], embeddings) and take_along_axis")


def _take_along_axis(em, operand, index, axis, batching, index_batching, out, op):
    """out[b..., j...] = operand[b..., index[b..., j...] along axis], as a one-hot select and sum
    over the axis (exact: one term is the element, the others zero)."""
    s, idx = spec(operand), spec(index)
    if not (len(batching) == idx.rank - 1 or len(batching) == idx.rank) or sorted(index_batching) != index_batching:
        fail(op, "(take_along_axis) with these batching dimensions is not supported")
    # operand -> (batch..., axis); index -> (batch..., j) with j the remaining index dimension (or 1)
    moved = em.transpose(operand, permutation=tuple(batching) + (axis,)) if list(batching) + [axis] != list(range(s.rank)) \
        else operand
    free = [d for d in range(idx.rank) if d not in index_batching]
    index = em.transpose(index, permutation=tuple(index_batching + free)) if index_batching + free != list(range(idx.rank)) \
        else index
    if not free:
        index = em.reshape(index, shape=spec(index).shape + (1,))
    batch_shape = spec(index).shape[:-1]
    j, c = spec(index).shape[-1], s.shape[axis]
    full = batch_shape + (j, c)
    nb = len(batch_shape)
    wide_index = em.broadcast_in_dim(index, dims=tuple(range(nb + 1)), shape=full)
    positions = em.iota(shape=full, dtype=idx.dtype, dimension=nb + 1)
    picked = em.compare(wide_index, positions, direction="eq")
    values = em.broadcast_in_dim(moved, dims=tuple(range(nb)) + (nb + 1,), shape=full)
    gathered = em.reduce_sum(em.select(picked, values, splat_like(em, values, 0)), axes=(nb + 1,))
    return gathered if spec(gathered).shape == out.shape else em.reshape(gathered, shape=out.shape)


def _single_row_start(op, starts, operand_shape, sizes):
    """The dynamic start of dimension 0 when the op reads or writes whole rows (every other start a
    constant 0 and full size), else a PassFailure."""
    for d, (start, size) in enumerate(zip(starts[1:], sizes[1:]), 1):
        value = constant_value(start)
        if value is None or value.reshape(-1)[0] != 0 or size != operand_shape[d]:
            fail(op, "is supported for one dynamic index of the leading dimension (scan's xs and ys) only")
    return starts[0]


def _dynamic_slice(em, op, args):
    operand, *starts = args
    sizes = ints(op, "slice_sizes")
    constants = [constant_value(v) for v in starts]
    s = spec(operand)
    if all(c is not None for c in constants):  # static: a slice (JAX clamps the start into range)
        begin = [int(min(max(int(c.reshape(-1)[0]), 0), n - k)) for c, n, k in zip(constants, s.shape, sizes)]
        return [em.slice(operand, start=tuple(begin), limit=tuple(b + k for b, k in zip(begin, sizes)),
                         stride=(1,) * s.rank)]
    start = _single_row_start(op, starts, s.shape, sizes)
    if sizes[0] != 1:
        fail(op, "with a dynamic start is supported for one row (slice size 1) only")
    return [em.reshape(em.gather(operand, start), shape=result_spec(op).shape)]


def _dynamic_update_slice(em, op, args):
    operand, update, *starts = args
    s, u = spec(operand), spec(update)
    start = _single_row_start(op, starts, s.shape, u.shape)
    if u.shape[0] != 1:
        fail(op, "with a dynamic start is supported for one row (update size 1) only")
    return [em.set_row(operand, em.reshape(update, shape=s.shape[1:]), start)]


def _scatter(em, op, args):
    """Rows of the operand updated at indices: `x.at[i].add(v)` (any indices) as tg.scatter_add,
    `x.at[i].set(v)` (one index) as tg.set_row. Indices must be in range: tg clamps them where
    JAX drops an update out of range."""
    if len(args) != 3:
        fail(op, f"of {len(args) // 2} operands is not supported")
    operand, indices, updates = args
    d = stablehlo.ScatterDimensionNumbers(op.attributes["scatter_dimension_numbers"])
    s, ispec = spec(operand), spec(indices)
    if list(d.inserted_window_dims) != [0] or list(d.scattered_dims_to_operand_dims) != [0] or list(d.input_batching_dims):
        fail(op, "is supported for updates of whole rows of the leading dimension only (x.at[indices].add, "
                 "x.at[i].set)")
    index = indices
    if d.index_vector_dim < ispec.rank:
        index = em.reshape(indices, shape=tuple(n for k, n in enumerate(ispec.shape) if k != d.index_vector_dim))
    n_index, row = spec(index).rank, s.shape[1:]
    if spec(updates).shape != spec(index).shape + row \
            or list(d.update_window_dims) != list(range(n_index, n_index + len(row))):
        fail(op, "is supported for updates of whole rows of the leading dimension only")
    block = op.regions[0].blocks[0]
    body = [o for o in block.operations if o.name not in ("stablehlo.return", "func.return")]
    returned = list(list(block.operations)[-1].operands)
    if len(body) == 1 and body[0].name == "stablehlo.add":
        return [em.add(operand, em.scatter_add(index, updates, rows=s.shape[0]))]
    if not body and returned == [block.arguments[1]]:  # the update replaces the row
        if n_index:
            fail(op, "setting several rows is not supported (with repeated indices the order of the writes "
                     "matters); set one row at a time")
        return [em.set_row(operand, updates, index)]
    fail(op, f"with a body of {', '.join(o.name for o in body) or 'its operand'} is not supported (add and set are)")


def _custom_call(em, op, args):
    target = ir.StringAttr(op.attributes["call_target_name"]).value
    fail(op, f"@{target} is not supported")


RULES = {
    **{f"stablehlo.{k}": _one_to_one(v) for k, v in ONE_TO_ONE.items()},
    "chlo.erf": _one_to_one("erf"),  # chlo is not in the bindings: seen only in generic form
    "stablehlo.compare": _compare,
    "stablehlo.convert": _convert,
    "stablehlo.clamp": _clamp,
    "stablehlo.is_finite": _is_finite,
    "stablehlo.and": _boolean("and"),
    "stablehlo.or": _boolean("or"),
    "stablehlo.xor": _boolean("xor"),
    "stablehlo.not": _boolean("not"),
    "stablehlo.optimization_barrier": _passthrough,
    "stablehlo.constant": _constant,
    "arith.constant": _constant,  # of a tensor: torch-mlir leaves a few
    "stablehlo.iota": _iota,
    "stablehlo.broadcast_in_dim": _broadcast_in_dim,
    "stablehlo.reshape": _reshape,
    "stablehlo.transpose": _transpose,
    "stablehlo.reverse": _reverse,
    "stablehlo.slice": _slice,
    "stablehlo.concatenate": _concatenate,
    "stablehlo.pad": _pad,
    "stablehlo.dot_general": _dot_general,
    "stablehlo.convolution": _convolution,
    "stablehlo.reduce": _reduce,
    "stablehlo.reduce_window": _reduce_window,
    "stablehlo.gather": _gather,
    "stablehlo.dynamic_slice": _dynamic_slice,
    "stablehlo.dynamic_update_slice": _dynamic_update_slice,
    "stablehlo.scatter": _scatter,
    "stablehlo.custom_call": _custom_call,
}


def convert(op, args):
    """The new values of `op`'s results (tg ops built before it); a PassFailure if it has no rule."""
    rule = RULES.get(op.name)
    if rule is None:
        fail(op, "is not supported (tg-import-stablehlo has no rule for it; the README lists what converts)")
    for k in range(len(op.results)):
        result_spec(op, k)  # every result must be a tg type
    try:
        return rule(Emitter(op.location), op, args)
    except VerifyError as err:  # a form of the op the rule does not expect
        fail(op, f"cannot be converted: {err} (operands {', '.join(str(a.type) for a in args)})")
