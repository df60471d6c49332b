"""tg-record-allocations: the sizes of the buffers a function allocates, as module attributes.

Compiled code allocates its intermediate buffers with malloc and cannot report a failure: a
buffer the machine cannot hold would be written through a null pointer. Shapes are static, so
the sizes are known after bufferization: `tg.largest_allocation` and `tg.total_allocation`
(bytes, over every memref.alloc in the module) let the runtime check before a call that they can
be allocated, and raise MemoryError instead."""

import dataclasses

from tgraph.support.mlir import ir

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass

_ELEMENT_BYTES = {"f16": 2, "bf16": 2, "f32": 4, "f64": 8, "i1": 1, "i8": 1, "i32": 4, "i64": 8, "index": 8}
LARGEST, TOTAL = "tg.largest_allocation", "tg.total_allocation"


def allocation_bytes(memref_type):
    t = ir.MemRefType(memref_type)
    if not t.has_static_shape:
        return 0
    count = 1
    for d in t.shape:
        count *= d
    return count * _ELEMENT_BYTES.get(str(t.element_type), 8)


@register_pass
@dataclasses.dataclass
class RecordAllocations(ModulePass):
    name = "tg-record-allocations"
    summary = "record the largest and total size of the buffers the module allocates (module attributes, bytes)"

    def run(self, module):
        sizes = [allocation_bytes(op.results[0].type) for op in collect_ops(module, lambda op: op.name == "memref.alloc")]
        i64 = ir.IntegerType.get_signless(64)
        module.attributes[LARGEST] = ir.IntegerAttr.get(i64, max(sizes, default=0))
        module.attributes[TOTAL] = ir.IntegerAttr.get(i64, sum(sizes))
