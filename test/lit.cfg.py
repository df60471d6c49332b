# lit configuration: IR-level tests (`tgraph-opt ... | filecheck`) and builder tests (`%PYTHON %s | filecheck`).
import os
import platform
import sys

import lit.formats

config.name = "tgraph"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlir", ".py"]
config.excludes = ["lit.cfg.py", "unit", "Inputs", "conftest.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.test_source_root

# The Python that runs lit is the one whose environment has tgraph, tgraph-opt and filecheck.
python = lit_config.params.get("python", sys.executable)
bindir = os.path.dirname(python)
config.environment["PATH"] = os.pathsep.join([bindir, config.environment.get("PATH", os.environ.get("PATH", ""))])
config.substitutions.append(("%PYTHON", python))
if platform.machine().lower() in ("x86_64", "amd64"):
    config.available_features.add("x86_64")
config.substitutions.append(("%tg_irdl", os.path.join(os.path.dirname(config.test_source_root), "dialect", "tg.irdl.mlir")))

# The MLIR bindings' own opt binary reads tg through --irdl-file; tests needing it say `REQUIRES: irdl-opt`.
sys.path.insert(0, os.path.join(os.path.dirname(config.test_source_root), "python"))
try:
    from tgraph.support.mlir import bundled_opt_tool

    irdl_opt = bundled_opt_tool()
except ImportError:
    irdl_opt = None
if irdl_opt:
    config.available_features.add("irdl-opt")
    config.substitutions.append(("%irdl-opt", irdl_opt))
