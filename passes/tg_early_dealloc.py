"""tg-early-dealloc: allocate each buffer just before its first use and free it right after its
last. Bufferization allocates where the tensor.empty ops were (hoisted to the top of the function
by the earlier passes) and upstream's ownership-based deallocation frees at the block's end, so
every intermediate of a function lived from its start to its return (the peak was the sum of all
of them, and recomputing values instead of keeping them, tgraph.checkpoint, saved nothing).

This moves each `memref.alloc` without operands down to just before the first op of its block
that uses the buffer, and each `memref.dealloc` of a buffer allocated in the same block up to
just after the last op of that block that uses the buffer or anything that may alias it (views of
it, and conservatively every buffer an op using it produces, including region results)."""

import dataclasses

from tgraph.support.mlir import ir

from .base import ModulePass, collect_ops
from .pipeline import register_pass


def _is_memref(value):
    return isinstance(value.type, ir.MemRefType)


def _top_level(op, block):
    """The ancestor of `op` (or op itself) that is in `block`, or None."""
    op = op.operation
    while op is not None:
        if op.block == block:
            return op
        op = op.parent.operation if op.parent is not None else None
    return None


def users(buffer, block):
    """The ops of `block` using `buffer` or a value that may alias it, in order."""
    aliases, pending, found = {buffer}, [buffer], []
    while pending:
        value = pending.pop()
        for use in value.uses:
            user = use.owner
            found.append(user)
            derived = [r for r in user.results if _is_memref(r)]
            if user.name in ("scf.yield", "scf.condition", "scf.forall.in_parallel", "tensor.parallel_insert_slice"):
                parent = user.parent
                while parent is not None:  # results of every enclosing region op, up to `block`
                    parent = parent.operation
                    derived += [r for r in parent.results if _is_memref(r)]
                    if parent.block == block:
                        break
                    parent = parent.parent
            for r in derived:
                if r not in aliases:
                    aliases.add(r)
                    pending.append(r)
    tops = {t for t in (_top_level(u, block) for u in found) if t is not None and t.name != "memref.dealloc"}
    return [op.operation for op in block.operations if op.operation in tops]


@register_pass
@dataclasses.dataclass
class EarlyDealloc(ModulePass):
    name = "tg-early-dealloc"
    summary = "allocate each buffer just before its first use and free it just after its last (in its block)"

    def run(self, module):
        for dealloc in collect_ops(module, lambda op: op.name == "memref.dealloc"):
            buffer = dealloc.operands[0]
            if isinstance(buffer.owner, ir.Block):
                continue
            alloc, block = buffer.owner.operation, dealloc.operation.block
            if alloc.name != "memref.alloc" or alloc.block != block:
                continue
            ordered = users(buffer, block)
            if not ordered:
                dealloc.operation.move_after(alloc)
                continue
            if not len(alloc.operands):
                alloc.move_before(ordered[0])
            dealloc.operation.move_after(ordered[-1])
