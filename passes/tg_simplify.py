"""tg-simplify: algebraic simplification of tg ops around splat constants, the clean-up that
derivative code needs (seeds of 1, scales of 1/n, broadcasts of scalars). Python-defined ops have
no folders, so canonicalize cannot do this. Ops left unused are erased.

  shape op (broadcast_in_dim, reshape, transpose, reverse) of a splat  -> a splat
  elementwise op or cast whose operands are all splats                 -> a splat (folded in numpy)
  x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0                             -> x
  0 - x                                                                -> neg(x)"""

import dataclasses

import numpy as np

from tgraph.dialect import OPS, create, spec_of
from tgraph.support.mlir import ir
from tgraph.support.symbols import functions

from .base import ModulePass
from .pipeline import register_pass

SHAPE_OPS = {"broadcast_in_dim", "reshape", "transpose", "reverse"}
FOLDABLE = {name for name, opdef in OPS.items() if opdef.foldable}  # from the op records
# (op, constant, its operand position) -> the identity's result: "other" operand, or "neg" of it
ALGEBRAIC_IDENTITIES = {("mul", 1.0, 0): "other", ("mul", 1.0, 1): "other", ("div", 1.0, 1): "other",
              ("add", 0.0, 0): "other", ("add", 0.0, 1): "other", ("sub", 0.0, 1): "other", ("sub", 0.0, 0): "neg"}


def splat_value(value):
    """The scalar of a tg.splat result, else None."""
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.operation.name != "tg.splat":  # a block argument, another op
        return None
    return ir.FloatAttr(owner.operation.attributes["value"]).value


def splat(value, like_type, loc):
    spec = spec_of(like_type)
    return create("splat", [], {"value": float(value), "shape": spec.shape, "dtype": spec.dtype}, loc=loc)[0]


def simplified(op):
    """A replacement Value for op's result, built before op, or None."""
    name = op.name[3:]
    operands = list(op.operands)
    constants = [splat_value(v) for v in operands]
    result_type = op.results[0].type
    if name in SHAPE_OPS and constants[0] is not None:
        return splat(constants[0], result_type, op.location)
    if name in FOLDABLE and operands and all(c is not None for c in constants):
        opdef = OPS[name]
        arrays = [np.asarray(c, dtype=spec_of(v.type).np_dtype) for c, v in zip(constants, operands)]
        with np.errstate(all="ignore"):
            folded = opdef.interpret(*arrays, **opdef.decode_attrs(op))
        return splat(np.asarray(folded).astype(np.float64), result_type, op.location)
    for position, c in enumerate(constants):
        rewrite = ALGEBRAIC_IDENTITIES.get((name, c, position)) if len(operands) == 2 else None
        if rewrite == "other":
            return operands[1 - position]
        if rewrite == "neg":
            return create("neg", [operands[1]], {}, loc=op.location)[0]
    return None


@register_pass
@dataclasses.dataclass
class Simplify(ModulePass):
    name = "tg-simplify"
    summary = "fold splat constants through shape and elementwise ops; drop x*1, x+0 and friends"

    def run(self, module):
        for fop in functions(module):
            for op in list(fop.regions[0].blocks[0].operations):
                op = op.operation
                if not op.name.startswith("tg.") or op.name == "tg.splat":
                    continue
                with ir.InsertionPoint(op):
                    replacement = simplified(op)
                if replacement is not None:
                    op.results[0].replace_all_uses_with(replacement)
            erase_dead(fop.regions[0].blocks[0])


def erase_dead(block):
    """Erase tg ops whose result is unused, last first so chains go at once."""
    for op in reversed(list(block.operations)):
        op = op.operation
        if op.name.startswith("tg.") and not any(True for _ in op.results[0].uses):
            op.erase()
