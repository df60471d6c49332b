"""tg-gpu-pipeline: a tg module to host code that launches GPU kernels, and kernels in the NVVM
(LLVM) dialect, for tgraph.backends.cuda.

tg -> linalg and fusion as on the CPU; bufferization with results as out-parameters; every
linalg op becomes a kernel (tg-gpu-kernels); the kernel loops become gpu.launch regions
(tg-map-to-gpu), which are outlined into gpu.modules and lowered to NVVM. The host function that
remains holds only buffers, views of them, and gpu.launch_func: tgraph.backends.cuda runs it as a
list of launches. `stage=gpu` stops after outlining."""

import dataclasses

from ..base import ModulePass, PipelineError
from ..pipeline import register_pass
from ..stages import Stage, bufferize, pipeline_text, to_linalg

STAGES = ("gpu", "nvvm")  # where tg-gpu-pipeline stops: after kernel outlining, or kernels in NVVM


def kernel_stages(on_cpu=False):
    """tg to kernels as block/thread scf.forall loops on memrefs (shared by the GPU pipeline and
    the CPU check of its kernels). On the GPU, intermediate buffers are allocated once by the
    runtime and reused, so no deallocation is inserted."""
    return (
        Stage("linalg", (*to_linalg(fuse_chains=False, dynamic_offsets=False), "canonicalize", "cse", "tg-unshare-fills", "tg-loop-carries-in-place", "tg-branch-results-in-place",
                           "tg-distinct-results")),
        Stage("bufferized", (*bufferize(deallocate=on_cpu), "tg-copy-to-linalg", "linalg-generalize-named-ops")),
        Stage("kernels", ("tg-gpu-kernels{workgroup-memory=false}" if on_cpu else "tg-gpu-kernels", "canonicalize", "cse")),
    )


def kernel_pipeline(on_cpu=False):
    return tuple(p for stage in kernel_stages(on_cpu) for p in stage.passes)


def gpu_stages(stage="nvvm"):
    """The one place the GPU pipeline is spelled out: linalg, bufferized, gpu (kernels outlined
    into gpu.modules, launched from the host function), nvvm (kernels in the LLVM dialect);
    `stage` gpu stops after outlining."""
    if stage not in STAGES:  # a misspelt stage must not quietly run the whole pipeline
        raise PipelineError(f"GPU pipeline stage {stage!r}: use one of {', '.join(STAGES)}")
    linalg, bufferized, kernels = kernel_stages()
    gpu = Stage("gpu", (*kernels.passes, "tg-map-to-gpu", "gpu-launch-sink-index-computations", "gpu-kernel-outlining",
                        "tg-name-kernels", "canonicalize", "cse"))
    nvvm = Stage("nvvm", (
        "lower-affine",
        "gpu.module(expand-strided-metadata, lower-affine, convert-scf-to-cf, arith-expand{include-bf16=true}, "
        "convert-gpu-to-nvvm{index-bitwidth=64}, canonicalize, cse)",
        "reconcile-unrealized-casts"))
    return (linalg, bufferized, gpu) + ((nvvm,) if stage == "nvvm" else ())


@register_pass
@dataclasses.dataclass
class GpuPipeline(ModulePass):
    name = "tg-gpu-pipeline"
    summary = "tg -> linalg -> kernels -> gpu.launch_func host code and NVVM gpu.modules"
    is_pipeline = True

    stage: str = dataclasses.field(default="nvvm", metadata={"help": "gpu (after outlining) or nvvm (kernels in the LLVM dialect)",
                                                             "choices": STAGES})

    def stages(self):
        return gpu_stages(self.stage)

    def pipeline(self):
        return pipeline_text(self.stages())
