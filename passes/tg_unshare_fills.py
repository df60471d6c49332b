"""tg-unshare-fills: one linalg.fill per user. A fill shared by several ops that write into it
bufferizes as copies of one buffer; a fill of its own per user bufferizes in place."""

import dataclasses

from tgraph.support.mlir import ir

from .base import ModulePass, collect_ops
from .pipeline import register_pass


@register_pass
@dataclasses.dataclass
class UnshareFills(ModulePass):
    name = "tg-unshare-fills"
    summary = "one linalg.fill per user: a fill shared by several ops that write into it bufferizes as copies"

    def run(self, module):
        for fill in collect_ops(module, lambda op: op.name == "linalg.fill" and len(op.results) == 1):
            uses = list(fill.results[0].uses)
            for use in uses[1:]:  # the first user keeps the original
                clone = fill.clone(ir.InsertionPoint(fill))
                use.owner.operands[use.operand_number] = clone.results[0]
