"""tg-gpu-kernels-on-cpu: the GPU pipeline's kernels run one after another on the CPU (LLVM dialect
for the CPU JIT): how tests check the kernels' arithmetic without a GPU."""

import dataclasses

from ..base import ModulePass
from ..pipeline import register_pass
from ..stages import llvm_lowering
from .tg_gpu_pipeline import kernel_pipeline


def kernels_on_cpu_pipeline():
    """The GPU kernels' loops run one after another on the CPU (the threads of a block only meet
    at the barriers between sibling loops, so the order keeps their meaning): how tests check the
    kernels' arithmetic without a GPU. Lowered as tg-cpu-pipeline lowers its loops."""
    return (
        "func.func(llvm-request-c-wrappers)",
        *kernel_pipeline(on_cpu=True),
        "scf-forall-to-for",
        "lower-affine",
        *llvm_lowering(),
    )


@register_pass
@dataclasses.dataclass
class KernelsOnCpu(ModulePass):
    name = "tg-gpu-kernels-on-cpu"
    summary = "the GPU pipeline's kernels, run sequentially on the CPU (LLVM dialect for the CPU JIT)"
    is_pipeline = True

    def pipeline(self):
        return ", ".join(kernels_on_cpu_pipeline())
