"""The on-disk cache of compiled entry points: one shared library per (graph, entry point,
options, host, versions), so that a new process skips differentiation, the MLIR pipeline and
LLVM code generation; for the GPU, a JSON description of the CudaExecutable (its PTX, LLVM IR,
specs and launch plan; see CudaExecutable.to_json), never unpickled. In ~/.cache/tgraph, or
TGRAPH_CACHE_DIR; TGRAPH_CACHE_DIR="" turns it off.

Writers build each entry in a private temporary file and rename it into place (atomic), so
concurrent writers and readers never see a partial file; an entry that fails to load is removed
and compiled again. Needs a C compiler driver (cc, gcc or clang) to link the JIT's object code;
without one, nothing is cached for the CPU."""

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile

from .backend_cpu import CpuExecutable
from .dtypes import TensorSpec

FORMAT = 2  # bump when what is cached, or how, changes


def cache_dir():
    value = os.environ.get("TGRAPH_CACHE_DIR")
    if value is not None:
        return value or None
    return os.path.join(os.path.expanduser("~"), ".cache", "tgraph")


@functools.lru_cache(maxsize=None)
def linker():
    return next((path for path in map(shutil.which, ("cc", "gcc", "clang")) if path), None)


@functools.lru_cache(maxsize=None)
def compiler_fingerprint():
    """A hash of tgraph's own compiler (dialect, passes, lowering, backend): entries written by
    another version of the code are never reused."""
    import tgraph
    import tgraph.dialect
    import tgraph.passes

    digest = hashlib.sha256()
    for package in (tgraph.dialect, tgraph.passes, tgraph):
        root = os.path.dirname(package.__file__)
        for folder, _, files in sorted(os.walk(root)):
            for name in sorted(f for f in files if f.endswith(".py")):
                with open(os.path.join(folder, name), "rb") as f:
                    digest.update(name.encode() + f.read())
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def host_fingerprint():
    """What the object code depends on besides the IR: the CPU, tgraph's compiler and the MLIR build."""
    from . import mlir

    try:
        with open("/proc/cpuinfo") as f:
            cpu = [line for line in f if line.startswith(("model name", "flags"))][:2]
    except OSError:
        cpu = [platform.processor()]
    bindings = os.path.dirname(mlir.ir.__file__)
    native = sorted((name, os.path.getsize(os.path.join(bindings, name))) for name in os.listdir(bindings)
                    if name.endswith(".so"))
    return [FORMAT, platform.machine(), platform.system(), cpu, native, compiler_fingerprint()]


def key(graph_text, entry, wrt, options):
    """`options`: what else the code depends on (the CPU's thread count, the GPU's sm)."""
    blob = json.dumps([graph_text, entry, list(wrt), options, host_fingerprint()])
    return hashlib.sha256(blob.encode()).hexdigest()[:40]


def _specs(items):
    return [TensorSpec(tuple(shape), dtype) for shape, dtype in items]


def load(digest):
    """A CpuExecutable from the cache, or None (missing, or unloadable: then removed)."""
    folder = cache_dir()
    if not folder:
        return None
    library, meta = os.path.join(folder, digest + ".so"), os.path.join(folder, digest + ".json")
    if not (os.path.exists(library) and os.path.exists(meta)):
        return None
    try:
        with open(meta) as f:
            info = json.load(f)
        return CpuExecutable.load(library, info["name"], _specs(info["inputs"]), _specs(info["outputs"]),
                                  info["threads"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        _remove(library, meta)
        return None


def store(digest, executable):
    """Save a compiled executable under `digest`; quietly does nothing when it cannot."""
    folder = cache_dir()
    if not folder or linker() is None:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".tmp-") as scratch:
            library = os.path.join(scratch, "entry.so")
            executable.save(library, linker())
            meta = os.path.join(scratch, "entry.json")
            with open(meta, "w") as f:
                json.dump({"name": executable.name, "threads": executable.threads,
                           "inputs": [[s.shape, s.dtype] for s in executable.input_specs],
                           "outputs": [[s.shape, s.dtype] for s in executable.output_specs]}, f)
            # The library first: a reader needs both, and checks for the metadata second.
            os.replace(library, os.path.join(folder, digest + ".so"))
            os.replace(meta, os.path.join(folder, digest + ".json"))
    except (OSError, RuntimeError, subprocess.SubprocessError):  # a cache that cannot be written is only slower
        return


def _remove(*paths):
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def load_gpu(digest):
    """A CudaExecutable from the cache, or None (missing, or not a valid description: then removed)."""
    from .backend_cuda import CudaExecutable

    folder = cache_dir()
    if not folder:
        return None
    path = os.path.join(folder, digest + ".cuda.json")
    try:
        with open(path, "rb") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    except OSError:
        _remove(path)
        return None
    try:
        return CudaExecutable.from_json(json.loads(text))
    except (ValueError, RecursionError):  # damaged, stale or not ours: compiled again
        _remove(path)
        return None


def store_gpu(digest, executable):
    """Save a CudaExecutable under `digest`; quietly does nothing when it cannot."""
    folder = cache_dir()
    if not folder:
        return
    scratch = None
    try:
        text = json.dumps(executable.to_json())
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".tmp-", delete=False) as f:
            scratch = f.name
            f.write(text)
        os.replace(scratch, os.path.join(folder, digest + ".cuda.json"))
    except (OSError, TypeError, ValueError):  # a cache that cannot be written is only slower
        if scratch:
            _remove(scratch)
