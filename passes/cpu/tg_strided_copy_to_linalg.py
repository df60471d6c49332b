"""tg-strided-copy-to-linalg: memref.copy between non-identity layouts -> linalg.copy, which
becomes loops (LLVM's lowering of such a copy calls a runtime library the JIT does not have)."""

import dataclasses

from tgraph.support.mlir import ir, linalg

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass


def _identity_layout(memref_type):
    t = ir.MemRefType(memref_type)
    return t.affine_map == ir.AffineMap.get_identity(t.rank)


def _strided_copy(op):
    return op.name == "memref.copy" and not all(_identity_layout(v.type) for v in op.operands)


@register_pass
@dataclasses.dataclass
class StridedCopyToLinalg(ModulePass):
    name = "tg-strided-copy-to-linalg"
    summary = "memref.copy between non-identity layouts -> linalg.copy (LLVM lowering would call a runtime library)"

    def run(self, module):
        for copy in collect_ops(module, _strided_copy):
            with ir.InsertionPoint(copy), copy.location:
                linalg.copy(copy.operands[0], outs=[copy.operands[1]])
            copy.erase()
