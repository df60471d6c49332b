"""tg-plan-gpu-mapping: append the transform script that maps each block loop of tg-gpu-kernels
onto a gpu.launch and its thread loops onto thread ids (run by tg-map-to-gpu)."""

import dataclasses

from tgraph.support.mlir import ir

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass
from .tg_gpu_kernels import BLOCK_DIMS_ATTR, KERNEL_ATTR


@register_pass
@dataclasses.dataclass
class PlanGpuMapping(ModulePass):
    name = "tg-plan-gpu-mapping"
    summary = "append the transform script that maps each tg-gpu-kernels block loop onto a gpu.launch"

    def run(self, module):
        loops = collect_ops(module, lambda op: op.name == "scf.forall" and KERNEL_ATTR in op.attributes)
        if not loops:
            return
        lines = []
        for loop in loops:
            n = ir.IntegerAttr(loop.attributes[KERNEL_ATTR]).value
            dims = ", ".join(str(d) for d in ir.DenseI64ArrayAttr(loop.attributes[BLOCK_DIMS_ATTR]))
            lines += [f"%k{n} = transform.structured.match ops{{[\"scf.forall\"]}} attributes{{{KERNEL_ATTR} = {n} : i64}} "
                      "in %root : (!transform.any_op) -> !transform.any_op",
                      f"%l{n} = transform.gpu.map_forall_to_blocks %k{n} generate_gpu_launch : "
                      "(!transform.any_op) -> !transform.any_op",
                      f"transform.gpu.map_nested_forall_to_threads %l{n} block_dims = [{dims}] : "
                      "(!transform.any_op) -> !transform.any_op"]
        text = ("module attributes {transform.with_named_sequence} {\n"
                "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n    "
                + "\n    ".join(lines) + "\n    transform.yield\n  }\n}")
        body = module.regions[0].blocks[0]
        with ir.InsertionPoint(body):
            body.append(ir.Module.parse(text).operation.clone())
