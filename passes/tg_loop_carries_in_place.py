"""tg-loop-carries-in-place: the op that computes a loop's next carry writes it into the carry's
own tensor. On tensors, a body's result is usually built in a fresh `tensor.empty`; bufferized, the
loop would then allocate a new buffer for its carry every iteration. Following the destinations
of the yielded value back (linalg ops' outs, transfer_write's and insert_slice's destinations) to
that `tensor.empty` and putting the carry there instead lets one-shot bufferization update the
carry in place. The ops that write the carry move to just after the body's last other read of it
(the body's ops are pure, so only the order of reads and writes of buffers changes). Where a write
would still overwrite a value yet to be read, bufferization copies instead: the rewrite never
changes what the loop computes. On the GPU this is required: its runtime allocates each buffer once,
so a loop may not hand a new buffer to its next iteration."""

import dataclasses

from .base import ModulePass, collect_ops
from .destinations import write_into
from .pipeline import register_pass


def _in_block(op, loop):
    """The op of the loop's body that is `op` or holds it."""
    while op.parent is not None and op.parent != loop:
        op = op.parent
    return op


def _sink(chain, carry, loop, terminator):
    """Move the chain (yielded value's producer first) to just after the body's last other read of
    the carry, so that it writes the carry after that read (written before it, bufferization would
    copy the carry instead). Only when each op of the chain is used by the next one alone: moving
    later keeps its operands defined before it."""
    ops = list(reversed(chain))  # in program order
    for op, consumer in zip(ops, ops[1:] + [terminator]):
        uses = list(op.results[0].uses) if len(op.results) == 1 else []
        if op.parent != loop or len(uses) != 1 or uses[0].owner != consumer:
            return
    block = loop.regions[-1].blocks[0]

    def at(op):
        return next(i for i, o in enumerate(block.operations) if o == op)

    readers = [_in_block(use.owner, loop) for use in carry.uses]
    readers = [r for r in readers if not any(r == c for c in ops) and r != terminator]
    if not readers:
        return
    anchor = max(readers, key=at)
    for op in ops:  # each op only ever moves later: its operands stay defined before it
        if at(op) < at(anchor):
            op.move_after(anchor)
        anchor = op


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
                    chain = write_into(value, carry, loop)
                    if chain:
                        _sink(chain, carry, loop, terminator)
