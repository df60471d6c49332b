"""tg-scalar-transfers: 0-d vector.transfer_read/transfer_write on memrefs -> memref.load/store.

Vectorizing a broadcast of one element per row (a row sum added back to its row, as in the
gradient of concatenate([x, sum(x, axis=1, keepdims=True)])) reads it with a 0-d transfer. Neither
convert-vector-to-scf nor convert-vector-to-llvm lowers a 0-d transfer from a ranked memref: an
unrealized cast was left for LLVM translation to fail on. A 0-d transfer is one element at its
indices, so a scalar load or store (and a broadcast or extract) says the same."""

import dataclasses

from tgraph.support.mlir import ir, memref, vector

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass


def _is_scalar_transfer(op):
    if op.name not in ("vector.transfer_read", "vector.transfer_write"):
        return False
    v = op.results[0] if op.name == "vector.transfer_read" else op.operands[0]
    base = op.operands[0] if op.name == "vector.transfer_read" else op.operands[1]
    return ir.VectorType(v.type).rank == 0 and isinstance(base.type, ir.MemRefType)


@register_pass
@dataclasses.dataclass
class ScalarTransfers(ModulePass):
    name = "tg-scalar-transfers"
    summary = "0-d vector transfers on memrefs -> memref.load/store (the vector lowerings leave them unconverted)"

    def run(self, module):
        for op in collect_ops(module, _is_scalar_transfer):
            with ir.InsertionPoint(op), op.location:
                if op.name == "vector.transfer_read":  # base, indices..., padding[, mask]
                    base = op.operands[0]
                    indices = list(op.operands)[1:1 + ir.MemRefType(base.type).rank]
                    element = memref.load(base, indices)
                    op.results[0].replace_all_uses_with(vector.broadcast(op.results[0].type, element))
                else:  # vector, base, indices...[, mask]
                    base = op.operands[1]
                    indices = list(op.operands)[2:2 + ir.MemRefType(base.type).rank]
                    memref.store(vector.extract(op.operands[0], [], []), base, indices)
            op.erase()
