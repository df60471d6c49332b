"""tg-cpu-pipeline: a tg module to the LLVM dialect for the CPU JIT (tgraph.backend_cpu).

Every public function gets the C interface (`_mlir_ciface_<name>`) and returns its results
through trailing out-parameters: the caller passes fresh output buffers, so results never alias
inputs or constants and nothing has to be freed across the boundary."""

import dataclasses
import platform

from tgraph.mlir import ir, linalg

from .base import ModulePass, collect_ops
from .pipeline import register_pass
from .tg_cpu_codegen import VECTOR_WIDTHS, host_vector_width, vector_width as default_vector_width, vector_width_option


def cpu_pipeline(threads=1, codegen=True, vector_width=0):
    """The one place the CPU pipeline is spelled out: tg -> linalg, fusion, the codegen strategy
    (tiling, vectorization, threads: tg-cpu-codegen), bufferization, then loops and vectors to LLVM.
    With threads > 1, scf.forall loops become OpenMP parallel loops (the JIT needs an OpenMP runtime).
    `vector_width` (f32 lanes; 0: TGRAPH_VECTOR_WIDTH, else the host's): below the host's, LLVM is
    also kept to the instruction set of a CPU with that width (tg-limit-vector-isa)."""
    parallel = threads > 1
    width = vector_width or default_vector_width()
    return (
        "tg-to-linalg",
        "canonicalize",
        "tg-fuse-elementwise-chains",  # the chains in one go: upstream fuses pairwise, quadratic in a chain's length
        "linalg-fuse-elementwise-ops",
        # Reductions keep their reduced dimensions as unit dimensions behind reshapes; without
        # them a reduction and its consumers share one iteration space, which row groups fuse in.
        "func.func(linalg-fold-unit-extent-dims{use-rank-reducing-slices=false})",
        "canonicalize",
        "cse",
        *(["tg-conv-to-matmul", "canonicalize", f"tg-cpu-codegen{{threads={threads} vector-width={width}}}", "canonicalize", "cse"]
          if codegen else []),
        "tg-unshare-fills",
        "func.func(llvm-request-c-wrappers)",
        "tg-distinct-results",
        "one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map}",
        "buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}",
        "buffer-deallocation-pipeline",
        "convert-bufferization-to-memref",
        "canonicalize",
        "cse",
        "tg-record-allocations",
        "tg-strided-copy-to-linalg",
        "tg-scalar-transfers",
        "convert-vector-to-scf{full-unroll=true}",
        "convert-linalg-to-loops",
        "lower-affine",
        *(["scf-forall-to-parallel", f"convert-scf-to-openmp{{num-threads={threads}}}", "canonicalize"]
          if parallel else ["scf-forall-to-for"]),
        *llvm_lowering(parallel),
        *([f"tg-limit-vector-isa{{vector-width={width}}}"] if width < host_vector_width() else []),
    )


def llvm_lowering(parallel=False):
    """Control flow, vectors, memrefs and math (tg-approximate-math) to the LLVM dialect: the tail
    shared by tg-cpu-pipeline and the CPU run of the GPU kernels."""
    return (
        "convert-scf-to-cf",
        "convert-vector-to-llvm{vector-contract-lowering=outerproduct}",
        "expand-strided-metadata",
        "lower-affine",  # the offset arithmetic of dynamic subviews
        "finalize-memref-to-llvm",
        "tg-approximate-math",  # vectorizable exp, log, tanh, sin, cos, pow: no libm calls
        "convert-scf-to-cf",  # sin/cos choose their argument reduction per vector with an scf.if
        "arith-expand{include-bf16=true}",
        "convert-math-to-llvm",
        "convert-math-to-libm",  # what neither expands nor LLVM lowers (f64 erf): a libm call,
        "convert-vector-to-llvm",  # per lane of a vector (the lanes' extracts and inserts)
        "convert-arith-to-llvm",
        "convert-cf-to-llvm",
        *(["convert-openmp-to-llvm"] if parallel else []),
        "convert-func-to-llvm",
        "convert-index-to-llvm",
        "convert-ub-to-llvm",
        "reconcile-unrealized-casts",
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

    def pipeline(self):
        return ", ".join(cpu_pipeline(self.threads, self.codegen, self.vector_width))


# x86 features to turn off so that LLVM's vectors are at most this many f32 lanes: without AVX
# only SSE (4); without AVX-512F, AVX2 and FMA (8). Turning a feature off turns off those built on it.
_X86_LIMITS = {4: ["-avx"], 8: ["-avx512f"]}


@register_pass
@dataclasses.dataclass
class LimitVectorIsa(ModulePass):
    name = "tg-limit-vector-isa"
    summary = "keep LLVM to the vector instructions of a CPU with vector-width f32 lanes (target_features on llvm.func)"

    vector_width: int = dataclasses.field(
        default=16, metadata={"help": "f32 lanes: 4 (SSE), 8 (AVX2) or 16 (any)", "choices": VECTOR_WIDTHS})

    def run(self, module):
        features = _X86_LIMITS.get(self.vector_width) if platform.machine().lower() in ("x86_64", "amd64") else None
        if not features:
            return
        attr = ir.Attribute.parse("#llvm.target_features<[" + ", ".join(f'"{f}"' for f in features) + "]>")
        for fn in collect_ops(module, lambda op: op.name == "llvm.func" and op.regions[0].blocks):
            fn.attributes["target_features"] = attr


def _identity_layout(memref_type):
    t = ir.MemRefType(memref_type)
    return t.affine_map == ir.AffineMap.get_identity(t.rank)


def _strided_copy(op):
    return op.name == "memref.copy" and not all(_identity_layout(v.type) for v in op.operands)


@register_pass
@dataclasses.dataclass
class UnshareFills(ModulePass):
    name = "tg-unshare-fills"
    summary = "one linalg.fill per user: a fill shared by several ops that write into it bufferizes as copies"

    def run(self, module):
        for fill in collect_ops(module, lambda op: op.name == "linalg.fill" and len(op.results) == 1):
            uses = list(fill.results[0].uses)
            for use in uses[1:]:  # the first user keeps the original
                clone = fill.clone(ir.InsertionPoint(fill))
                use.owner.operands[use.operand_number] = clone.results[0]


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
