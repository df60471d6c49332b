"""tg-loop-carries-in-place: the op that computes a loop's next carry writes it into the carry's
own tensor. On tensors, a body's result is usually built in a fresh `tensor.empty`; bufferized, the
loop would then allocate a new buffer for its carry every iteration. Following the destinations
of the yielded value back (linalg ops' outs, transfer_write's and insert_slice's destinations) to
that `tensor.empty` and putting the carry there instead lets one-shot bufferization update the
carry in place. Where that would overwrite a value still to be read, bufferization copies instead:
the rewrite never changes what the loop computes."""

import dataclasses

from .base import ModulePass, collect_ops
from .pipeline import register_pass


def _destination(op, result_number):
    """The operand index whose tensor `op`'s result `result_number` is written into, or None."""
    name = op.name
    if name.startswith("linalg.") and name != "linalg.yield":
        return len(op.operands) - len(op.results) + result_number
    if name in ("vector.transfer_write", "tensor.insert_slice", "tensor.insert"):
        return 1
    return None


def _inside(op, loop):
    """Whether `op` is nested in `loop` (only there may it use the loop's carry)."""
    parent = op.parent
    while parent is not None:
        if parent == loop:
            return True
        parent = parent.parent
    return False


def _carry_into(value, carry, loop):
    """Follow `value`'s chain of destinations inside the loop; if it starts at a tensor.empty of
    the carry's type, make the chain start at the carry instead. Returns whether it did."""
    for _ in range(64):  # chains are short; the bound guards against a malformed cycle
        owner = value.owner
        if not hasattr(owner, "name") or not _inside(owner, loop):  # a block argument, or hoisted out
            return False
        index = _destination(owner, value.result_number)
        if index is None:
            return False
        init = owner.operands[index]
        source = init.owner
        if hasattr(source, "name") and source.name == "tensor.empty" and init.type == carry.type:
            owner.operands[index] = carry
            return True
        value = init
    return False


@register_pass
@dataclasses.dataclass
class LoopCarriesInPlace(ModulePass):
    name = "tg-loop-carries-in-place"
    summary = "compute each tensor a loop carries into the carry itself, so it bufferizes in place"

    def run(self, module):
        for loop in collect_ops(module, lambda op: op.name in ("scf.for", "scf.while")):
            body = loop.regions[-1].blocks[0]
            terminator = list(body.operations)[-1]
            # scf.for: carry p is the body's argument p + 1 (after the induction variable); scf.while:
            # the after region's argument p holds the value the yield's operand p replaces.
            carries = list(body.arguments)[1:] if loop.name == "scf.for" else list(body.arguments)
            for value, carry in zip(terminator.operands, carries):
                if value.type == carry.type and value != carry:
                    _carry_into(value, carry, loop)
