"""tg-gpu-pipeline: a tg module to host code that launches GPU kernels, and kernels in the NVVM
(LLVM) dialect, for tgraph.backend_cuda.

tg -> linalg and fusion as on the CPU; bufferization with results as out-parameters; every
linalg op becomes a kernel (tg-gpu-kernels); the kernel loops become gpu.launch regions
(tg-map-to-gpu), which are outlined into gpu.modules and lowered to NVVM. The host function that
remains holds only buffers, views of them, and gpu.launch_func: tgraph.backend_cuda runs it as a
list of launches. `stage=gpu` stops after outlining."""

import dataclasses

from tgraph.mlir import ir, linalg

from .base import ModulePass, PipelineError, collect_ops
from .pipeline import register_pass
from .tg_cpu_pipeline import llvm_lowering
from .tg_gpu_kernels import BLOCK_DIMS_ATTR, KERNEL_ATTR

KERNEL_PREFIX = "tg_kernel_"
STAGES = ("gpu", "nvvm")  # where tg-gpu-pipeline stops: after kernel outlining, or kernels in NVVM


def kernel_pipeline(on_cpu=False):
    """tg to kernels as block/thread scf.forall loops on memrefs (shared by the GPU pipeline and
    the CPU check of its kernels). On the GPU, intermediate buffers are allocated once by the
    runtime and reused, so no deallocation is inserted."""
    return (
        "tg-to-linalg",
        "canonicalize",
        "linalg-fuse-elementwise-ops",
        "canonicalize",
        "cse",
        "tg-unshare-fills",
        "tg-distinct-results",
        "one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}",
        "buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}",
        *(["buffer-deallocation-pipeline"] if on_cpu else []),
        "convert-bufferization-to-memref",
        "canonicalize",
        "cse",
        "tg-copy-to-linalg",
        "linalg-generalize-named-ops",
        "tg-gpu-kernels{workgroup-memory=false}" if on_cpu else "tg-gpu-kernels",
        "canonicalize",
        "cse",
    )


def gpu_pipeline(stage="nvvm"):
    """The one place the GPU pipeline is spelled out; `stage` gpu stops after kernel outlining."""
    if stage not in STAGES:  # a misspelt stage must not quietly run the whole pipeline
        raise PipelineError(f"GPU pipeline stage {stage!r}: use one of {', '.join(STAGES)}")
    gpu = (*kernel_pipeline(), "tg-map-to-gpu", "gpu-launch-sink-index-computations", "gpu-kernel-outlining", "tg-name-kernels", "canonicalize", "cse")
    if stage == "gpu":
        return gpu
    return (
        *gpu,
        "lower-affine",
        "gpu.module(expand-strided-metadata, lower-affine, convert-scf-to-cf, arith-expand{include-bf16=true}, convert-gpu-to-nvvm{index-bitwidth=64}, "
        "canonicalize, cse)",
        "reconcile-unrealized-casts",
    )


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
class GpuPipeline(ModulePass):
    name = "tg-gpu-pipeline"
    summary = "tg -> linalg -> kernels -> gpu.launch_func host code and NVVM gpu.modules"
    is_pipeline = True

    stage: str = dataclasses.field(default="nvvm", metadata={"help": "gpu (after outlining) or nvvm (kernels in the LLVM dialect)",
                                                             "choices": STAGES})

    def pipeline(self):
        return ", ".join(gpu_pipeline(self.stage))


@register_pass
@dataclasses.dataclass
class KernelsOnCpu(ModulePass):
    name = "tg-gpu-kernels-on-cpu"
    summary = "the GPU pipeline's kernels, run sequentially on the CPU (LLVM dialect for the CPU JIT)"
    is_pipeline = True

    def pipeline(self):
        return ", ".join(kernels_on_cpu_pipeline())


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


@register_pass
@dataclasses.dataclass
class MapToGpu(ModulePass):
    name = "tg-map-to-gpu"
    summary = "each block loop -> a gpu.launch; its thread loops -> thread ids, with a barrier after each"
    is_pipeline = True

    def pipeline(self):
        return "tg-plan-gpu-mapping, transform-interpreter, tg-erase-transform-scripts"


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
