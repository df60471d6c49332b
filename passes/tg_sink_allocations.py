"""tg-sink-allocations: every tensor.empty (one per user) and every linalg.fill moves to just
before the op of its block that uses it. Bufferization allocates a buffer where its tensor.empty
is; earlier passes leave them (and the fills of accumulators) at the top of the function, so
every buffer was allocated on entry, however late it was needed (see tg-early-dealloc, which
frees each one after its last use)."""

import dataclasses

from tgraph.support.mlir import ir

from .base import ModulePass, collect_ops
from .pipeline import register_pass
from .tg_early_dealloc import _top_level


@register_pass
@dataclasses.dataclass
class SinkAllocations(ModulePass):
    name = "tg-sink-allocations"
    summary = "move each tensor.empty (one per user) and linalg.fill to just before its user, where its buffer is needed"

    def run(self, module):
        for fill in reversed(collect_ops(module, lambda op: op.name == "linalg.fill" and len(op.results) == 1)):
            uses = list(fill.results[0].uses)
            if len(uses) == 1:
                user = _top_level(uses[0].owner, fill.block)
                if user is not None:
                    fill.move_before(user)
        for empty in collect_ops(module, lambda op: op.name == "tensor.empty" and not len(op.operands)):
            block = empty.block
            for use in list(empty.results[0].uses)[1:]:
                user = _top_level(use.owner, block)
                if user is None:
                    continue
                clone = empty.clone(ir.InsertionPoint(user))
                use.owner.operands[use.operand_number] = clone.results[0]
            uses = list(empty.results[0].uses)
            if uses:
                user = _top_level(uses[0].owner, block)
                if user is not None:
                    empty.move_before(user)
