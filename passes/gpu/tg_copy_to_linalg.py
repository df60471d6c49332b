"""tg-copy-to-linalg: memref.copy -> linalg.copy (on the GPU every copy is a kernel)."""

import dataclasses

from tgraph.support.mlir import ir, linalg

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass


@register_pass
@dataclasses.dataclass
class CopyToLinalg(ModulePass):
    name = "tg-copy-to-linalg"
    summary = "memref.copy -> linalg.copy (on the GPU every copy is a kernel)"

    def run(self, module):
        for copy in collect_ops(module, lambda op: op.name == "memref.copy"):
            with ir.InsertionPoint(copy), copy.location:
                linalg.copy(copy.operands[0], outs=[copy.operands[1]])
            copy.erase()
