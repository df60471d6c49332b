"""tg-record-allocations: the sizes of the buffers a function allocates, as module attributes.

Compiled code allocates its intermediate buffers with malloc and cannot report a failure: a
buffer the machine cannot hold would be written through a null pointer. Shapes are static, so
the sizes are known after bufferization: `tg.largest_allocation` and `tg.total_allocation`
(bytes, over every memref.alloc in the module) let the runtime check before a call that they can
be allocated, and raise MemoryError instead. `tg.peak_allocation` is the most bytes live at once
in program order (an alloc adds its size, its dealloc subtracts it; what a loop body allocates
counts once): the memory a straight-line function needs, what checkpointing reduces."""

import dataclasses

from tgraph.support.mlir import arith, ir, memref

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass

_ELEMENT_BYTES = {"f16": 2, "bf16": 2, "f32": 4, "f64": 8, "i1": 1, "i8": 1, "i32": 4, "i64": 8, "index": 8}
LARGEST, TOTAL, PEAK = "tg.largest_allocation", "tg.total_allocation", "tg.peak_allocation"


def allocation_bytes(memref_type):
    t = ir.MemRefType(memref_type)
    if not t.has_static_shape:
        return 0
    count = 1
    for d in t.shape:
        count *= d
    return count * _ELEMENT_BYTES.get(str(t.element_type), 8)


COUNTER = "tg_allocation_count"


def _count_allocations(module, allocs):
    """A public i64 global, atomically incremented before every memref.alloc runs."""
    counter = ir.MemRefType.get([], ir.IntegerType.get_signless(64))
    with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]):
        memref.GlobalOp(COUNTER, ir.TypeAttr.get(counter),
                        initial_value=ir.DenseElementsAttr.get_splat(
                            ir.RankedTensorType.get([], ir.IntegerType.get_signless(64)),
                            ir.IntegerAttr.get(ir.IntegerType.get_signless(64), 0)))
    for alloc in allocs:
        with ir.InsertionPoint(alloc), alloc.location:
            one = arith.ConstantOp(ir.IntegerType.get_signless(64), 1).result
            memref.AtomicRMWOp(arith.AtomicRMWKind.addi, one, memref.GetGlobalOp(counter, COUNTER).result, [])


@register_pass
@dataclasses.dataclass
class RecordAllocations(ModulePass):
    name = "tg-record-allocations"
    summary = "record the largest and total size of the buffers the module allocates (module attributes, bytes)"

    count: bool = dataclasses.field(default=False, metadata={
        "help": "also count the allocations a call makes, at run time, in the global @" + COUNTER + " (for tests)"})

    def run(self, module):
        allocs = collect_ops(module, lambda op: op.name == "memref.alloc")
        sizes = [allocation_bytes(op.results[0].type) for op in allocs]
        if self.count:
            _count_allocations(module, allocs)
        i64 = ir.IntegerType.get_signless(64)
        module.attributes[LARGEST] = ir.IntegerAttr.get(i64, max(sizes, default=0))
        module.attributes[TOTAL] = ir.IntegerAttr.get(i64, sum(sizes))
        module.attributes[PEAK] = ir.IntegerAttr.get(i64, peak_bytes(module))


def peak_bytes(module):
    """The most bytes allocated and not yet freed, walking the ops in program order."""
    live, peak, sizes = 0, 0, {}
    for op in collect_ops(module, lambda op: op.name in ("memref.alloc", "memref.dealloc")):
        if op.name == "memref.alloc":
            sizes[op.results[0]] = allocation_bytes(op.results[0].type)
            live += sizes[op.results[0]]
            peak = max(peak, live)
        else:
            live -= sizes.pop(op.operands[0], 0)
    return peak
