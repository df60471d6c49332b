"""CpuExecutable: a tg function compiled for this CPU (tg-cpu-pipeline, then the LLVM JIT) and
called on numpy arrays through its C interface (support.native: descriptors, runtimes)."""

import ctypes
import dataclasses
import os
import subprocess

from tgraph import dialect
from tgraph.passes.cpu.tg_cpu_pipeline import CpuPipeline
from tgraph.passes.cpu.tg_record_allocations import LARGEST, TOTAL

from . import cache
from .base import Backend, register
from .common import parse_entry, read_only_arguments, run_pipeline
from ..support import mpi
from ..support.arguments import conform
from ..support.dtypes import TensorSpec
from ..support.errors import TGraphError, user_facing
from ..support.mlir import execution_engine, ir
from ..support.native import NativeFunction, openmp_runtime, packed_entry, prepare_runtimes
from ..support.symbols import functions, name_of
from ..support.target import CpuTarget

# JIT-compiled symbols resolve against the process too: a function called `exp` or `tanh` would
# capture libm's calls. A dot cannot occur in a C name, so prefixed names never collide.
SYMBOL_PREFIX = "tgraph."


def _prepare_functions(module, prefix):
    for op in functions(module):
        name = name_of(op)
        if prefix:
            ir.SymbolTable.replace_all_symbol_uses(name, prefix + name, module.operation)
            ir.SymbolTable.set_symbol_name(op, prefix + name)
        read_only_arguments(op)


def _calls_mpi(module):
    """Whether the lowered module declares MPI_* functions (collectives on more than one process)."""
    return any(op.name == "llvm.func" and ir.StringAttr(op.attributes["sym_name"]).value.startswith("MPI_")
               for op in module.body.operations)


def llvm_translation_check(module, what):
    """A TGraphError naming the first op that LLVM translation cannot take (anything outside the
    LLVM and OpenMP dialects, which translate), with its location: run when the JIT failed, whose
    own error is a bare RuntimeError."""
    leftover = []

    def visit(op):
        if not (op.name.startswith(("llvm.", "omp.")) or op.name == "builtin.module") and not leftover:
            leftover.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    if leftover:
        op = leftover[0]
        raise TGraphError(f"cannot compile {what}: LLVM translation: '{op.name}' at {op.location} was not lowered to "
                          "the LLVM dialect (a lowering gap in tgraph's pipeline: please report it with the graph)")


def host_target(threads=None):
    """The CPU to compile for (support.target.CpuTarget.host): `threads`, else TGRAPH_NUM_THREADS,
    else every core, but 1 without an OpenMP runtime; the vector width from TGRAPH_VECTOR_WIDTH
    or the host. A bad TGRAPH_VECTOR_WIDTH is a TGraphError."""
    try:
        target = CpuTarget.host(threads or 0)
    except ValueError as err:
        raise TGraphError(str(err)) from None
    if target.threads > 1 and not openmp_runtime():
        target = dataclasses.replace(target, threads=1)
    return target


class CpuExecutable(NativeFunction):
    """`CpuExecutable(module, func_name)(*arrays)` -> list of numpy arrays, one per result.

    `module` is tg IR text, an ir.Module or a tgraph.Graph; `func_name` defaults to the Graph's
    entry or the module's first function. The module is compiled from a copy: it is not changed.
    `log(stage, pass, module operation)`, when given, is called after every pass of the pipeline
    (the pipeline then runs one pass at a time). `pipeline` (text) replaces tg-cpu-pipeline's
    stages. Every public function of the module is compiled; `symbol(name)` finds another one's
    packed C interface. `symbol_prefix` is put before every function's name (the default keeps
    the JIT's names apart from the process's C functions)."""

    @user_facing
    def __init__(self, module, func_name=None, log=None, threads=None, pipeline=None, donate=(),
                 symbol_prefix=SYMBOL_PREFIX):
        with dialect.context():
            self._module, name, input_specs, output_specs = parse_entry(module, func_name, "CpuExecutable", "the CPU")
            target = host_target(threads)
            self.threads, self.vector_width = target.threads, target.vector_width
            self.symbol_prefix = symbol_prefix
            self.loaded_from = None
            prepare_runtimes(1)
            donated = ",".join(f"{i}:{k}" for i, k in donate)
            self.name = name
            entry = self._compile(log, pipeline or CpuPipeline(threads=self.threads, vector_width=self.vector_width,
                                                               donate_func=symbol_prefix + name, donate=donated).stages())
        self.bind(entry, name, input_specs, output_specs, self.allocations, donate)

    @classmethod
    def load(cls, library, name, input_specs, output_specs, threads, allocations=(0, 0), donated=()):
        """A CpuExecutable over a shared library written by `save` (no MLIR work at all)."""
        self = cls.__new__(cls)
        self.threads, self.symbol_prefix = threads, SYMBOL_PREFIX
        prepare_runtimes(threads)
        self._engine = ctypes.CDLL(library)
        self.loaded_from = library
        return self.bind(packed_entry(self._engine, SYMBOL_PREFIX + name), name, input_specs, output_specs,
                         allocations, donated)

    def save(self, library, linker, extra_args=()):
        """Write the JIT's object code as a shared library at `library` (linked by `linker`, a C
        compiler driver, given `extra_args` too: C files to compile into it, their flags); the caller loads it in
        another process with `load`."""
        obj = library + ".o"
        self._engine.dump_to_object_file(obj)
        try:
            subprocess.run([linker, "-shared", "-fPIC", "-O2", "-o", library, obj, *extra_args],
                           check=True, capture_output=True, timeout=120)
        finally:
            os.remove(obj)

    def symbol(self, name):
        """The packed C interface of the compiled function @name (this JIT's), or None."""
        address = self._engine.raw_lookup("_mlir_ciface_" + self.symbol_prefix + name)
        return ctypes.CFUNCTYPE(None, ctypes.c_void_p)(address) if address else None

    def _compile(self, log, pipeline):
        _prepare_functions(self._module, self.symbol_prefix)
        run_pipeline(self._module, pipeline, log, f"@{self.name} for the CPU")
        attributes = self._module.operation.attributes
        self.allocations = tuple(ir.IntegerAttr(attributes[k]).value if k in attributes else 0 for k in (LARGEST, TOTAL))
        runtime = [openmp_runtime()] if self.threads > 1 else []
        if _calls_mpi(self._module):  # the library mpi4py loaded
            runtime.append(mpi.library_path())
        what = f"@{self.name} for the CPU"
        # O2: the vector code is already shaped by the codegen strategies; O3 took about 15% longer
        # to compile (the MLP step: 0.68 s vs 0.60 s cold) and ran no faster on the benchmarks.
        try:
            self._engine = execution_engine.ExecutionEngine(self._module, opt_level=2, shared_libs=runtime)
        except RuntimeError as err:
            llvm_translation_check(self._module, what)  # names an op left unlowered, if that is why
            raise TGraphError(f"cannot compile {what}: the LLVM JIT failed: {err} (its message is above)") from None
        # Symbols the JIT cannot resolve surface here, as a missing function, not later as a crash.
        entry = self.symbol(self.name)
        if entry is None:
            raise TGraphError(f"the CPU JIT could not link @{self.name} (an unresolved symbol: see the JIT's message above)")
        return entry

    @user_facing
    def __call__(self, *arrays):
        return self.run(conform(arrays, self.input_specs, f"@{self.name}", "inputs"))

    def __repr__(self):
        ins = ", ".join(map(str, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        return f"<tgraph.CpuExecutable @{self.name}({ins}) -> {outs}>"


def _specs(items):
    return [TensorSpec(tuple(shape), dtype) for shape, dtype in items]


class CpuBackend(Backend):
    """This CPU: tg-cpu-pipeline and the LLVM JIT; numpy arrays in and out; the cache keeps a
    shared library and its metadata per entry."""

    name = "cpu"
    stages = ("linalg", "vector", "bufferized", "llvm")
    donates = True

    def compile(self, module, name, log=None, donate=()):
        return CpuExecutable(module, name, log=log, donate=donate)

    def conform(self, arrays, specs, where, what, names=None):
        return conform(arrays, specs, where, what, names)

    def cache_options(self):
        target = host_target()
        return [target.threads, target.vector_width]

    def load_cached(self, digest):
        entry = cache.load_library(digest)
        if entry is None:
            return None
        library, info = entry
        try:
            return CpuExecutable.load(library, info["name"], _specs(info["inputs"]), _specs(info["outputs"]),
                                      info["threads"], info["allocations"], info.get("donated", ()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            cache.discard_library(digest)
            return None

    def store_cached(self, digest, executable):
        cache.store_library(digest, executable.save, {
            "name": executable.name, "threads": executable.threads, "allocations": list(executable.allocations),
            "donated": [list(pair) for pair in executable.donated],
            "inputs": [[s.shape, s.dtype] for s in executable.input_specs],
            "outputs": [[s.shape, s.dtype] for s in executable.output_specs]})


BACKEND = CpuBackend()
register(BACKEND)
