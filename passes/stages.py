"""Pipelines as data: a pipeline is a list of named stages, each a list of pass-pipeline elements
(tgraph's passes and upstream's, in text). `ir(stage)` of a compiled object is the IR after its
stage's last pass. The builders below are the pieces the CPU and GPU pipelines share."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Stage:
    name: str
    passes: tuple


def pipeline_text(stages):
    """The stages' passes as one pipeline text."""
    return ", ".join(p for stage in stages for p in stage.passes)


def stage_named(stages, name):
    return next(stage for stage in stages if stage.name == name)


def to_linalg(fuse_chains, dynamic_offsets=True):
    """tg -> linalg on tensors, calls inlined first (custom rules, checkpoints), elementwise ops
    fused (whole chains first when `fuse_chains`: upstream fuses pairwise, quadratic in a chain's length)."""
    return ("tg-inline-calls", "tg-to-linalg" if dynamic_offsets else "tg-to-linalg{dynamic-offsets=false}", "canonicalize", *(["tg-fuse-elementwise-chains"] if fuse_chains else []),
            "linalg-fuse-elementwise-ops")


def bufferize(deallocate, after_one_shot=()):
    """Tensors -> buffers, results as out-parameters (the caller passes fresh output buffers, so
    results never alias inputs or constants); with `deallocate`, intermediate buffers are freed."""
    # A loop whose next carry could not be written in place (tg-loop-carries-in-place) copies it.
    return ("one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map allow-return-allocs-from-loops}",
            *after_one_shot,
            "buffer-results-to-out-params{hoist-static-allocs=true modify-public-functions=true}",
            *(["buffer-deallocation-pipeline"] if deallocate else []),
            "convert-bufferization-to-memref",
            *(["tg-early-dealloc"] if deallocate else []),  # upstream frees at the end of the block
            "canonicalize",
            "cse")


def llvm_lowering(parallel=False):
    """Control flow, vectors, memrefs and math (tg-approximate-math) to the LLVM dialect: the tail
    shared by tg-cpu-pipeline and the CPU run of the GPU kernels."""
    return (
        "convert-scf-to-cf",
        "convert-vector-to-llvm{vector-contract-lowering=outerproduct}",
        "expand-strided-metadata",
        "lower-affine",  # the offset arithmetic of dynamic subviews
        "convert-to-llvm{filter-dialects=mpi}",  # the collectives of tg-partition-shards: MPI calls
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
