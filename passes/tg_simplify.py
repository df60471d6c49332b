"""tg-simplify: algebraic simplification of tg ops around splat constants, the clean-up that
derivative code needs (seeds of 1, scales of 1/n, broadcasts of scalars). Python-defined ops have
no folders, so canonicalize cannot do this. Ops left unused are erased.

  shape op (broadcast_in_dim, reshape, transpose, reverse) of a splat  -> a splat
  elementwise op or cast whose operands are all splats                 -> a splat (folded in numpy)
  x * 1, 1 * x, x / 1, x + 0, 0 + x, x - 0                             -> x
  0 - x                                                                -> neg(x)
  dot_general contracting only dimensions of size 1 (or none)          -> a product of broadcasts
                                                                         (the outer products of
                                                                         per-example gradients; in
                                                                         the preferred type, if any)"""

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


def outer_product(op):
    """dot_general(lhs, rhs) whose contracting dimensions all have size 1, as
    broadcast(lhs) * broadcast(rhs): an elementwise product the codegen streams at memory speed,
    where the contraction kernels would run a loop of one step per output element. With a
    preferred_element_type, each factor is cast to it first: the one product, in that type."""
    attrs = OPS["dot_general"].decode_attrs(op)
    lhs, rhs = op.operands
    lhs_spec, rhs_spec, out_spec = spec_of(lhs.type), spec_of(rhs.type), spec_of(op.results[0].type)
    if out_spec.dtype == "i1" or any(lhs_spec.shape[d] != 1 for d in attrs["lhs_contract"]):
        return None
    nb = len(attrs["lhs_batch"])
    n_lhs_free = lhs_spec.rank - nb - len(attrs["lhs_contract"])
    n_rhs_free = out_spec.rank - nb - n_lhs_free
    factors = []
    for side, value, spec, batch, contract in (("lhs", lhs, lhs_spec, attrs["lhs_batch"], attrs["lhs_contract"]),
                                               ("rhs", rhs, rhs_spec, attrs["rhs_batch"], attrs["rhs_contract"])):
        if spec.dtype != out_spec.dtype:
            value = create("cast", [value], {"dtype": out_spec.dtype}, loc=op.location)[0]
        free = [d for d in range(spec.rank) if d not in batch and d not in contract]
        order = list(batch) + free + list(contract)
        moved = [d for d in order if spec.shape[d] != 1]
        if moved != sorted(moved):  # a transpose, unless it only moves dimensions of size 1 (a reshape)
            value = create("transpose", [value], {"permutation": tuple(order)}, loc=op.location)[0]
        sizes = [spec.shape[d] for d in free]
        shape = [spec.shape[d] for d in batch] + (sizes + [1] * n_rhs_free if side == "lhs" else [1] * n_lhs_free + sizes)
        if tuple(shape) != tuple(spec_of(value.type).shape):
            value = create("reshape", [value], {"shape": tuple(shape)}, loc=op.location)[0]
        if tuple(shape) != tuple(out_spec.shape):
            value = create("broadcast_in_dim", [value], {"dims": tuple(range(out_spec.rank)),
                                                          "shape": tuple(out_spec.shape)}, loc=op.location)[0]
        factors.append(value)
    return create("mul", factors, {}, loc=op.location)[0]


def simplified(op):
    """A replacement Value for op's result, built before op, or None."""
    name = op.name[3:]
    if name == "dot_general":
        return outer_product(op)
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
    summary = ("fold splat constants through shape and elementwise ops; drop x*1, x+0 and friends; outer "
               "products as broadcast products")

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
