"""The one place that imports the MLIR Python bindings.

Everything else in tgraph imports MLIR from here. Upstream's own `mlir` package is
preferred when it is importable; otherwise the complete upstream bindings bundled in
the `torch-mlir` wheel are used (they need neither PyTorch nor torch-mlir's own dialects).
"""

import importlib
import os

try:  # upstream MLIR wheels
    _root = "mlir"
    importlib.import_module("mlir.dialects.ext")
except ImportError:  # the same bindings, shipped inside torch-mlir
    _root = "torch_mlir"


def _load(name):
    return importlib.import_module(f"{_root}.{name}")


ir = _load("ir")
passmanager = _load("passmanager")
rewrite = _load("rewrite")
execution_engine = _load("execution_engine")
func = _load("dialects.func")
arith = _load("dialects.arith")
math = _load("dialects.math")
tensor = _load("dialects.tensor")
linalg = _load("dialects.linalg")
scf = _load("dialects.scf")
memref = _load("dialects.memref")
vector = _load("dialects.vector")
bufferization = _load("dialects.bufferization")
irdl = _load("dialects.irdl")
ext = _load("dialects.ext")
shard = _load("dialects.shard")

BINDINGS = _root


def bundled_opt_tool():
    """Path of the bindings' own `*-opt` binary (it parses any dialect given --irdl-file), or None."""
    libs = os.path.dirname(importlib.import_module(f"{_root}._mlir_libs").__file__)
    for name in ("mlir-opt", "torch-mlir-opt"):
        path = os.path.join(libs, name)
        if os.access(path, os.X_OK):
            return path
    return None


def stablehlo_module():
    """The bindings' StableHLO support: `register_dialect`, the attribute wrappers
    (DotDimensionNumbers, ...), `deserialize_portable_artifact`, `eval_module` (its reference
    interpreter). An ImportError where the bindings lack it (upstream's own wheels)."""
    return _load("_mlir_libs._stablehlo")
