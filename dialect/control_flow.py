"""How tg programs spell control flow: upstream `scf.for`, `scf.while`, `scf.if` and
`scf.index_switch` carrying tensors, with tg ops in their regions, and the scalar glue that joins
them (loop indices are `index`, conditions `i1`; tg ops see both as tensors of rank 0).

The builders (tgraph.control), the derivative passes and the interpreter share these helpers, so
the glue has one spelling. Two discardable attributes carry what the derivative passes need:
`tg.max_iterations` on a bounded scf.while (its tape has that many slots) and `tg.checkpoint` on
an scf.for (the reverse sweep saves every k-th carry and recomputes the segments between)."""

from tgraph.support.mlir import arith, ir, tensor

from .core import element_type, spec_of, VerifyError

INDEX_DTYPE = "i32"  # the element type of loop indices seen by tg ops (as JAX's fori_loop)
MAX_ITERATIONS = "tg.max_iterations"
CHECKPOINT = "tg.checkpoint"
LOOPS = ("scf.for", "scf.while")
BRANCHES = ("scf.if", "scf.index_switch")
REGION_OPS = LOOPS + BRANCHES


def index_constant(n):
    return arith.ConstantOp(ir.IndexType.get(), int(n)).result


def index_as_tensor(index):
    """An `index` value as a tensor<i32> of rank 0, for tg ops."""
    scalar = arith.IndexCastOp(element_type(INDEX_DTYPE), index).result
    return tensor.FromElementsOp(ir.RankedTensorType.get([], element_type(INDEX_DTYPE)), [scalar]).result


def tensor_as_index(value):
    """A tensor of rank 0 of an integer type as an `index`."""
    return arith.IndexCastOp(ir.IndexType.get(), tensor.ExtractOp(value, []).result).result


def tensor_as_condition(value):
    """A tensor<i1> of rank 0 as the i1 that scf.if and scf.condition take."""
    return tensor.ExtractOp(value, []).result


def is_tensor(value_or_type):
    t = getattr(value_or_type, "type", value_or_type)
    if isinstance(t, ir.RankedTensorType):
        return True
    try:
        ir.RankedTensorType(t)
        return True
    except ValueError:
        return False


def is_float_value(value):
    """A tensor of a floating-point type: the values that carry derivatives."""
    if not is_tensor(value):
        return False
    try:
        return spec_of(value.type).dtype in ("f16", "bf16", "f32", "f64")
    except VerifyError:
        return False


def int_attribute(op, name):
    """An integer discardable attribute of `op`, or None."""
    return ir.IntegerAttr(op.attributes[name]).value if name in op.attributes else None


def constant_index(value):
    """The integer an `index` value holds when an arith.constant defines it, else None."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return None
    owner = getattr(owner, "operation", owner)
    if owner.name != "arith.constant":
        return None
    return ir.IntegerAttr(owner.attributes["value"]).value
