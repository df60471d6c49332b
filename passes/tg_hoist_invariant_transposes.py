"""tg-hoist-invariant-transposes: a contraction that reads a 2-D operand transposed (A·Bᵀ, Aᵀ·B:
what reverse mode makes of `h @ w`) reads a copy transposed in memory order instead, made just
before it, or before the outermost loop the operand is invariant in (a scan's reverse step).

The contraction kernels stream the right operand's rows and the left operand's columns in memory
order; read the other way round, every vector load is a strided gather, once per tile of the
other operand (the backward pass of a 16-layer MLP ran at half speed so). A transpose costs one
pass over the operand; inside a loop, once. An operand computed in the loop is left alone: its
copy would be made every step."""

import dataclasses

from tgraph.dialect import OPS, create
from tgraph.support.mlir import ir

from .base import ModulePass, collect_ops
from .pipeline import register_pass

_LOOPS = ("scf.for", "scf.while")


def _outermost_invariant_loop(op, value):
    """The outermost loop around `op` that `value` is defined outside of, or None."""
    found, parent = None, op.parent
    while parent is not None and hasattr(parent, "name"):
        if parent.name in _LOOPS:
            if _defined_inside(value, parent):
                break
            found = parent
        parent = parent.parent
    return found


def _in_a_loop(op):
    parent = op.parent
    while parent is not None and hasattr(parent, "name"):
        if parent.name in _LOOPS:
            return True
        parent = parent.parent
    return False


def _defined_inside(value, loop):
    owner = value.owner
    op = owner.owner if isinstance(owner, ir.Block) else owner  # a block argument: its block's op
    op = getattr(op, "operation", op)
    while op is not None and hasattr(op, "name"):
        if op == loop:
            return True
        op = op.parent
    return False


@register_pass
@dataclasses.dataclass
class HoistInvariantTransposes(ModulePass):
    name = "tg-hoist-invariant-transposes"
    summary = ("contractions read 2-D operands in memory order: a transposed copy, made before the outermost loop "
               "the operand is invariant in")

    def run(self, module):
        dot = OPS["dot_general"]
        for op in collect_ops(module, lambda o: o.name == "tg.dot_general"):
            attrs = dot.decode_attrs(op)
            lhs, rhs = op.operands
            # (operand index, its rank, the contracting dim it has, the one the kernels want)
            for index, value, contract, wanted in ((1, rhs, "rhs_contract", 0), (0, lhs, "lhs_contract", 1)):
                batch = attrs["rhs_batch" if index else "lhs_batch"]
                if len(ir.RankedTensorType(value.type).shape) != 2 or batch or attrs[contract] != (1 - wanted,):
                    continue
                loop = _outermost_invariant_loop(op, value)
                if loop is None:
                    if _in_a_loop(op):
                        continue
                    loop = op  # outside any loop: the copy just before the contraction
                with ir.InsertionPoint(loop), loop.location:
                    flipped, _ = create("transpose", [value], {"permutation": (1, 0)})
                op.operands[index] = flipped
                op.attributes[contract] = ir.DenseI64ArrayAttr.get([wanted])
