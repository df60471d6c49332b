"""tgraph's passes, one module per pass; a pass's `name` is its flag, its module's name (tg_x_y.py
for tg-x-y) and its lit test's name (test/passes/tg-x-y.mlir).

    ad/        the AD passes (tg-generate-tangent, tg-generate-adjoint, tg-generate-hessian)
    .          tg-level rewrites and the lowering to linalg shared by both targets
    lowering/  the tg -> linalg rules, one module per op family (as dialect/)
    cpu/       the CPU pipeline: codegen strategies, bufferized loops, the LLVM dialect
    gpu/       the GPU pipeline: kernels, gpu.launch, NVVM

`PASSES` maps each name to its class; `build_pass_manager` turns pipeline text that mixes
tgraph and upstream passes into one MLIR PassManager; a pipeline pass lists named stages
(`stages.Stage`)."""

import importlib
import os

from .base import ModulePass, PassFailure, PipelineError
from .pipeline import PASSES, build_pass_manager, parse_pipeline, register_pass


def _register_all():
    """Import every pass module (tg_*.py here and in ad/, cpu/, gpu/): each registers its pass."""
    root = os.path.dirname(__file__)
    for folder in ("", "ad", "cpu", "gpu"):
        for name in sorted(os.listdir(os.path.join(root, folder))):
            if name.startswith("tg_") and name.endswith(".py"):
                importlib.import_module(".".join(filter(None, (__name__, folder, name[:-3]))))


_register_all()

__all__ = ["ModulePass", "PassFailure", "PipelineError", "PASSES", "build_pass_manager", "parse_pipeline",
           "register_pass"]
