"""tgraph's passes, one module per pass; a pass's `name` is its flag and its test file's name.

`PASSES` maps each name to its class; `build_pass_manager` turns pipeline text that mixes
tgraph and upstream passes into one MLIR PassManager."""

from .base import ModulePass, PassFailure, PipelineError
from .pipeline import PASSES, build_pass_manager, parse_pipeline, register_pass
from . import tg_generate_adjoint, tg_generate_tangent, tg_simplify  # noqa: F401  (registers the passes)
from . import tg_approximate_math, tg_conv_to_matmul, tg_cpu_codegen, tg_cpu_pipeline, tg_fuse_elementwise_chains, tg_distinct_results, tg_record_allocations, tg_scalar_transfers, tg_to_linalg  # noqa: F401  (lowering, codegen, the CPU pipeline)
from . import tg_gpu_kernels, tg_gpu_pipeline  # noqa: F401  (the GPU pipeline)

__all__ = ["ModulePass", "PassFailure", "PipelineError", "PASSES", "build_pass_manager", "parse_pipeline",
           "register_pass"]
