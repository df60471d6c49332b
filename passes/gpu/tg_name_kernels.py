"""tg-name-kernels: outlined kernels (and their gpu.modules) renamed tg_kernel_<n>, in launch
order: names valid in PTX, and stable."""

import dataclasses

from tgraph.support.mlir import ir

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass

KERNEL_PREFIX = "tg_kernel_"


@register_pass
@dataclasses.dataclass
class NameKernels(ModulePass):
    name = "tg-name-kernels"
    summary = "outlined kernels (and their gpu.modules) renamed tg_kernel_<n>: names valid in PTX, in launch order"

    def run(self, module):
        launches = collect_ops(module, lambda op: op.name == "gpu.launch_func")
        modules = {ir.StringAttr(op.attributes["sym_name"]).value: op
                   for op in module.regions[0].blocks[0].operations if op.operation.name == "gpu.module"}
        for n, launch in enumerate(launches):
            old = ir.SymbolRefAttr(launch.attributes["kernel"])
            gpu_module = modules[str(old).split("::")[0].lstrip("@")]
            new = f"{KERNEL_PREFIX}{n}"
            for op in gpu_module.regions[0].blocks[0].operations:
                if op.operation.name == "gpu.func":
                    ir.SymbolTable.set_symbol_name(op, new)
            ir.SymbolTable.set_symbol_name(gpu_module, new)
            launch.attributes["kernel"] = ir.SymbolRefAttr.get([new, new])
