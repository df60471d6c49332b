"""tg-cpu-pipeline: a tg module to the LLVM dialect for the CPU JIT (tgraph.backends.cpu), in four
named stages: linalg (fused, on tensors), vector (tiled and vectorized by the codegen strategy),
bufferized, llvm.

Every public function gets the C interface (`_mlir_ciface_<name>`) and returns its results
through trailing out-parameters: the caller passes fresh output buffers, so results never alias
inputs or constants and nothing has to be freed across the boundary."""

import dataclasses

from tgraph.support.target import CpuTarget

from ..base import ModulePass
from ..pipeline import register_pass
from ..stages import Stage, bufferize, llvm_lowering, pipeline_text, to_linalg
from .common import vector_width_option


def cpu_stages(threads=1, codegen=True, vector_width=0, count_allocations=False, donate_func="", donate=""):
    """The one place the CPU pipeline is spelled out: tg -> linalg, fusion, the codegen strategy
    (tiling, vectorization, threads: tg-cpu-codegen), bufferization, then loops and vectors to LLVM.
    With threads > 1, scf.forall loops become OpenMP parallel loops (the JIT needs an OpenMP runtime).
    `vector_width` (f32 lanes; 0: the host's, or TGRAPH_VECTOR_WIDTH): below the host's, LLVM is
    also kept to the instruction set of a CPU with that width (tg-limit-vector-isa).
    `count_allocations`: compiled code counts its allocations in a global (tests read it).
    `donate` ("argument:result,..."): those results of @donate_func are computed into the donated
    arguments' buffers (tg-donate-results) and leave the function (jit's donate_argnums)."""
    donating = [f"tg-donate-results{{func={donate_func} pairs={donate}}}"] if donate else []
    dropping = [f"tg-drop-donated-results{{func={donate_func} pairs={donate}}}"] if donate else []
    parallel = threads > 1
    target = CpuTarget.host(threads, vector_width)
    width = target.vector_width
    return (
        Stage("linalg", (
            "tg-hoist-invariant-transposes",
            *to_linalg(fuse_chains=True),
            "tg-partition-shards",  # tg.shard annotations: this process's blocks and MPI collectives
            # Reductions keep their reduced dimensions as unit dimensions behind reshapes; without
            # them a reduction and its consumers share one iteration space, which row groups fuse in.
            "func.func(linalg-fold-unit-extent-dims{use-rank-reducing-slices=false})",
            "canonicalize",
            "cse",
            *(["tg-conv-to-matmul", "canonicalize"] if codegen else []))),
        Stage("vector", (
            *([f"tg-cpu-codegen{{threads={threads} vector-width={width}}}", "canonicalize", "cse"] if codegen else []),
            "tg-unshare-fills",
            "tg-sink-allocations",
            "tg-loop-carries-in-place",
            "tg-branch-results-in-place",
            "func.func(llvm-request-c-wrappers)",
            "tg-distinct-results",
            *donating)),
        Stage("bufferized", bufferize(deallocate=True, after_one_shot=dropping)),
        Stage("llvm", (
            "tg-record-allocations{count=true}" if count_allocations else "tg-record-allocations",
            "tg-strided-copy-to-linalg",
            "tg-scalar-transfers",
            "convert-vector-to-scf{full-unroll=true}",
            "convert-linalg-to-loops",
            "lower-affine",
            *(["scf-forall-to-parallel", f"convert-scf-to-openmp{{num-threads={threads}}}", "canonicalize"]
              if parallel else ["scf-forall-to-for"]),
            *llvm_lowering(parallel),
            *([f"tg-limit-vector-isa{{vector-width={width}}}"] if target.limits_instruction_set else []))),
    )


@register_pass
@dataclasses.dataclass
class CpuPipeline(ModulePass):
    name = "tg-cpu-pipeline"
    summary = "tg -> linalg -> fused, bufferized loops -> LLVM dialect, for the CPU JIT"
    is_pipeline = True

    threads: int = dataclasses.field(default=1, metadata={"help": "threads for parallel loops (OpenMP when > 1)", "min": 1})
    codegen: bool = dataclasses.field(default=True, metadata={"help": "tile and vectorize (false: plain loops)"})
    vector_width: int = vector_width_option()
    donate_func: str = dataclasses.field(default="", metadata={"help": "the function whose arguments are donated"})
    donate: str = dataclasses.field(default="", metadata={
        "help": "argument:result pairs computed into the donated arguments' buffers (comma-separated)"})

    def stages(self):
        return cpu_stages(self.threads, self.codegen, self.vector_width, donate_func=self.donate_func,
                          donate=self.donate)

    def pipeline(self):
        return pipeline_text(self.stages())
