"""The loop nest of a linalg op, as both code generators read it (tg-plan-cpu-codegen on tensors,
tg-gpu-kernels on memrefs): each loop's kind and static size, the op that combines into the
output of a reduction, and that combiner's neutral element. Each target maps what it finds here
to a strategy of its own."""

import dataclasses

from tgraph.support.mlir import ir

NAMED_KINDS = {"linalg.matmul": ["parallel", "parallel", "reduction"],
               "linalg.batch_matmul": ["parallel", "parallel", "parallel", "reduction"]}

_INF = float("inf")
# combiner -> its neutral element ("min_signed"/"max_signed": the integer type's extremes)
NEUTRAL_ELEMENTS = {"arith.addf": 0.0, "arith.mulf": 1.0, "arith.maximumf": -_INF, "arith.minimumf": _INF,
                    "arith.maxnumf": -_INF, "arith.minnumf": _INF, "arith.addi": 0, "arith.muli": 1,
                    "arith.ori": 0, "arith.xori": 0, "arith.andi": -1, "arith.maxsi": "min_signed",
                    "arith.minsi": "max_signed", "arith.maxui": 0, "arith.minui": -1}


@dataclasses.dataclass
class LoopNest:
    """A linalg op's loops: kind ('parallel'/'reduction') and static size of each."""

    kinds: list
    sizes: list
    inputs: int
    body: list  # op names in the region
    combiner: str = ""  # the op that combines into the (single) output: arith.addf for a sum
    plain_maps: bool = True  # every indexing map picks loop dimensions (no reversed or offset indexing)

    @property
    def reductions(self):
        return [i for i, k in enumerate(self.kinds) if k == "reduction"]

    @property
    def parallel(self):
        return [i for i, k in enumerate(self.kinds) if k == "parallel"]


def _static(value, scalars):
    t = value.type
    if isinstance(t, ir.ShapedType):
        return ir.ShapedType(t).has_static_shape
    return scalars


def loop_nest(op, scalars=False):
    """The LoopNest of a linalg.generic / matmul / batch_matmul whose operands have static shapes
    (tensors or memrefs; scalar operands too when `scalars`, as a generalized fill has), else None."""
    operands = list(op.operands)
    if not all(_static(v, scalars) for v in operands):
        return None
    if op.name in NAMED_KINDS:
        a, b = (list(v.type.shape) for v in operands[:2])
        sizes = a[:-1] + [b[-1], a[-1]]  # batch..., M, N, K
        return LoopNest(NAMED_KINDS[op.name], sizes, 2, ["arith.mulf", "arith.addf"])
    if op.name != "linalg.generic":
        return None
    kinds = [str(k).split("<")[-1].rstrip(">") for k in ir.ArrayAttr(op.attributes["iterator_types"])]
    sizes = [None] * len(kinds)
    plain = True
    for value, map_attr in zip(operands, ir.ArrayAttr(op.attributes["indexing_maps"])):
        if not isinstance(value.type, ir.ShapedType):
            continue  # a scalar input
        for d, expr in zip(value.type.shape, ir.AffineMapAttr(map_attr).value.results):
            if isinstance(expr, ir.AffineDimExpr):
                sizes[expr.position] = d
            else:
                plain = False
    if None in sizes:
        return None
    block = op.regions[0].blocks[0]
    inputs = ir.DenseI32ArrayAttr(op.attributes["operandSegmentSizes"])[0]  # the ins
    return LoopNest(kinds, sizes, inputs, [o.name for o in block.operations], combiner(block, inputs), plain)


def combiner(block, inputs):
    """The name of the op yielding the single output, when it reads the output's running value."""
    ops = list(block.operations)
    if len(block.arguments) != inputs + 1 or len(ops) < 2 or len(ops[-1].operands) != 1:
        return ""
    owner = ops[-1].operands[0].owner
    if isinstance(owner, ir.Block) or block.arguments[inputs] not in list(owner.operands):
        return ""
    return owner.name


def neutral_element(combiner_name, element_type):
    """The neutral element of a combiner as a Python number for `element_type` (a float, or an
    integer of the type's width; i1 as 0 or 1)."""
    value = NEUTRAL_ELEMENTS[combiner_name]
    if isinstance(element_type, ir.FloatType):
        return value
    width = ir.IntegerType(element_type).width
    if value == "min_signed":
        value = -(1 << (width - 1))
    elif value == "max_signed":
        value = (1 << (width - 1)) - 1
    return value & 1 if width == 1 else value
