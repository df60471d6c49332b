"""CpuExecutable: a tg function compiled for this CPU (tg-cpu-pipeline, then the LLVM JIT) and
called on numpy arrays.

The compiled function takes one memref descriptor per input and one per result (the pipeline
turns results into trailing out-parameters), all through its C interface. Inputs are passed
without copies when they are C-contiguous with the right dtype; results are written straight
into fresh numpy arrays that belong to the caller."""

import ctypes
import ctypes.util
import dataclasses
import functools
import os
import subprocess
import sys
import threading

import numpy as np

from tgraph import dialect
from tgraph.passes.cpu.tg_cpu_pipeline import CpuPipeline
from tgraph.passes.cpu.tg_record_allocations import LARGEST, TOTAL

from . import cache
from .base import Backend, register
from .common import parse_entry, read_only_arguments, run_pipeline
from ..support.arguments import conform
from ..support.dtypes import TensorSpec
from ..support.errors import TGraphError, user_facing
from ..support.mlir import execution_engine, ir
from ..support.symbols import functions, name_of
from ..support.target import CpuTarget

_DESCRIPTOR_TYPES = {}


def _descriptor_type(rank):
    """MLIR's ranked memref descriptor: {allocated, aligned, offset, sizes[rank], strides[rank]}
    (the element type is only behind the pointers, so one struct per rank serves every dtype)."""
    if rank not in _DESCRIPTOR_TYPES:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTOR_TYPES[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTOR_TYPES[rank]


def _descriptor(spec):
    """A descriptor for a C-contiguous array of `spec` (strides in elements); its pointers are
    filled in per call."""
    d = _descriptor_type(spec.rank)()
    if spec.rank:
        d.sizes[:] = spec.shape
        stride, strides = 1, []
        for size in reversed(spec.shape):
            strides.append(stride if spec.size else 0)
            stride *= size
        d.strides[:] = strides[::-1]
    return d


def _address(array):
    """The address of an array's first element (from_buffer is several times faster than
    array.ctypes.data, but needs a writable, non-empty buffer)."""
    try:
        return ctypes.addressof(ctypes.c_byte.from_buffer(array))
    except (TypeError, ValueError):
        return array.ctypes.data


# JIT-compiled symbols resolve against the process too: a function called `exp` or `tanh` would
# capture libm's calls. A dot cannot occur in a C name, so prefixed names never collide.
SYMBOL_PREFIX = "tgraph."


def _prepare_functions(module):
    for op in functions(module):
        name = name_of(op)
        ir.SymbolTable.replace_all_symbol_uses(name, SYMBOL_PREFIX + name, module.operation)
        ir.SymbolTable.set_symbol_name(op, SYMBOL_PREFIX + name)
        read_only_arguments(op)


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


@functools.lru_cache(maxsize=None)
def openmp_runtime():
    """An OpenMP runtime with the `__kmpc_*` ABI that MLIR's OpenMP lowering calls: Intel's
    libiomp5 (the intel-openmp wheel puts it in the environment's lib/) or LLVM's libomp. GCC's
    libgomp lacks that ABI. None when neither is present: code is then single-threaded."""
    bundled = os.path.join(sys.prefix, "lib", "libiomp5.so")
    # find_library runs a compiler to search: only when the environment has no runtime of its own.
    candidates = [bundled] if os.path.exists(bundled) else filter(None, map(ctypes.util.find_library, ("iomp5", "omp")))
    for candidate in candidates:
        try:
            ctypes.CDLL(candidate, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        return candidate
    return None


@functools.lru_cache(maxsize=None)
def f16_runtime():
    """Make libgcc's f16 conversions (__extendhfsf2, __truncsfhf2, __truncdfhf2: GCC 12 and later)
    visible to the JIT: LLVM calls them for f16 on a CPU without F16C instead of converting inline."""
    try:
        ctypes.CDLL("libgcc_s.so.1", mode=ctypes.RTLD_GLOBAL)
        return True
    except OSError:
        return False


@functools.lru_cache(maxsize=None)
def keep_freed_memory():
    """Let glibc reuse freed blocks up to 32 MiB instead of returning each to the kernel: compiled
    code allocates its intermediate buffers per call, and with the default threshold (128 KiB)
    every call of a large model would map fresh pages and fault on them. Process-wide; set
    TGRAPH_MALLOC_TUNING=0 to leave malloc alone."""
    if os.environ.get("TGRAPH_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 128 << 20))
    except (OSError, AttributeError):
        return False


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


# Functions whose largest buffer is at least this large check, before each call, that their
# buffers can be allocated (a trial malloc: for sizes this large glibc maps fresh pages, so the
# trial costs microseconds and touches no memory).
_CHECKED_ALLOCATION = 256 << 20


@functools.lru_cache(maxsize=None)
def _libc():
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def _malloc_succeeds(size):
    pointer = _libc().malloc(size)
    _libc().free(pointer)
    return bool(pointer)


def _check_allocations(name, largest, total):
    """MemoryError when the largest buffer compiled code allocates cannot be allocated now (the
    code itself would write through a null pointer). All buffers at once are tried first: when
    they fit, nothing more is needed; when only their sum does not fit, the call goes ahead, since
    they need not all be live at the same time."""
    if _malloc_succeeds(total) or _malloc_succeeds(largest):
        return
    raise MemoryError(f"@{name} needs a buffer of {largest / 2**30:.1f} GiB ({largest} bytes), which cannot be "
                      "allocated on this machine; use smaller shapes, or split the computation into parts")


class CpuExecutable:
    """`CpuExecutable(module, func_name)(*arrays)` -> list of numpy arrays, one per result.

    `module` is tg IR text, an ir.Module or a tgraph.Graph; `func_name` defaults to the Graph's
    entry or the module's first function. The module is compiled from a copy: it is not changed.
    `log(stage, pass, module operation)`, when given, is called after every pass of the pipeline
    (the pipeline then runs one pass at a time). `pipeline` (text) replaces tg-cpu-pipeline's
    stages."""

    @user_facing
    def __init__(self, module, func_name=None, log=None, threads=None, pipeline=None, donate=()):
        with dialect.context():
            self._module, self.name, self.input_specs, self.output_specs = parse_entry(
                module, func_name, "CpuExecutable", "the CPU")
            target = host_target(threads)
            self.threads, self.vector_width = target.threads, target.vector_width
            self.loaded_from = None
            self.donated = tuple(tuple(pair) for pair in donate)
            keep_freed_memory()
            f16_runtime()
            donated = ",".join(f"{i}:{k}" for i, k in self.donated)
            self._compile(log, pipeline or CpuPipeline(threads=self.threads, vector_width=self.vector_width,
                                                       donate_func=SYMBOL_PREFIX + self.name, donate=donated).stages())
        self._ready()

    def _ready(self):
        """Output k of a donated pair (i, k) is input i's array, written by the code: no buffer of its own."""
        self._donated_outputs = dict((k, i) for i, k in self.donated)
        self._output_layout = [(s.shape, s.np_dtype) for k, s in enumerate(self.output_specs)
                               if k not in self._donated_outputs]
        self._local = threading.local()

    @classmethod
    def load(cls, library, name, input_specs, output_specs, threads, allocations=(0, 0), donated=()):
        """A CpuExecutable over a shared library written by `save` (no MLIR work at all)."""
        self = cls.__new__(cls)
        self.name, self.input_specs, self.output_specs, self.threads = name, input_specs, output_specs, threads
        self.donated = tuple(tuple(pair) for pair in donated)
        self.allocations = tuple(allocations)
        if threads > 1 and not openmp_runtime():
            raise OSError("the library needs an OpenMP runtime, and none is loaded")
        keep_freed_memory()
        f16_runtime()
        self._engine = ctypes.CDLL(library)
        self.loaded_from = library
        self._entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(
            ctypes.cast(getattr(self._engine, "_mlir__mlir_ciface_" + SYMBOL_PREFIX + name), ctypes.c_void_p).value)
        self._ready()
        return self

    def save(self, library, linker):
        """Write the JIT's object code as a shared library at `library` (linked by `linker`, a C
        compiler driver); the caller loads it in another process with `load`."""
        obj = library + ".o"
        self._engine.dump_to_object_file(obj)
        try:
            subprocess.run([linker, "-shared", "-o", library, obj], check=True, capture_output=True, timeout=60)
        finally:
            os.remove(obj)

    def _compile(self, log, pipeline):
        _prepare_functions(self._module)
        symbol = "_mlir_ciface_" + SYMBOL_PREFIX + self.name
        run_pipeline(self._module, pipeline, log, f"@{self.name} for the CPU")
        attributes = self._module.operation.attributes
        self.allocations = tuple(ir.IntegerAttr(attributes[k]).value if k in attributes else 0 for k in (LARGEST, TOTAL))
        runtime = [openmp_runtime()] if self.threads > 1 else []
        what = f"@{self.name} for the CPU"
        # O2: the vector code is already shaped by the codegen strategies; O3 took about 15% longer
        # to compile (the MLP step: 0.68 s vs 0.60 s cold) and ran no faster on the benchmarks.
        try:
            self._engine = execution_engine.ExecutionEngine(self._module, opt_level=2, shared_libs=runtime)
        except RuntimeError as err:
            llvm_translation_check(self._module, what)  # names an op left unlowered, if that is why
            raise TGraphError(f"cannot compile {what}: the LLVM JIT failed: {err} (its message is above)") from None
        # Symbols the JIT cannot resolve surface here, as a missing function, not later as a crash.
        if not self._engine.raw_lookup(symbol):
            raise TGraphError(f"the CPU JIT could not link @{self.name} (an unresolved symbol: see the JIT's message above)")
        self._entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self._engine.raw_lookup(symbol))

    @user_facing
    def __call__(self, *arrays):
        return self.run(conform(arrays, self.input_specs, f"@{self.name}", "inputs"))

    def _call_state(self):
        """This thread's descriptors (one per argument, shapes filled in once) and the packed
        argument array pointing at them: a call only writes the data pointers."""
        state = getattr(self._local, "state", None)
        if state is None:
            outputs = [s for k, s in enumerate(self.output_specs) if k not in self._donated_outputs]
            descriptors = [_descriptor(s) for s in self.input_specs + outputs]
            pointers = [ctypes.pointer(d) for d in descriptors]
            packed = (ctypes.c_void_p * len(pointers))(*[ctypes.addressof(p) for p in pointers])
            state = self._local.state = (descriptors, pointers, packed)
        return state

    def run(self, inputs):
        """Call the native code on arrays already conformed to the input specs; fresh outputs."""
        if self.allocations[0] >= _CHECKED_ALLOCATION:
            _check_allocations(self.name, *self.allocations)
        descriptors, _, packed = self._call_state()
        outputs = [np.empty(shape, dtype) for shape, dtype in self._output_layout]
        for d, a in zip(descriptors, inputs + outputs):
            d.allocated = d.aligned = _address(a)
        self._entry(packed)
        if self._donated_outputs:  # donated inputs hold their outputs now
            fresh = iter(outputs)
            return [inputs[self._donated_outputs[k]] if k in self._donated_outputs else next(fresh)
                    for k in range(len(self.output_specs))]
        return outputs

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
