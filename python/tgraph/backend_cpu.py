"""CpuExecutable: a tg function compiled for this CPU (tg-cpu-pipeline, then the LLVM JIT) and
called on numpy arrays.

The compiled function takes one memref descriptor per input and one per result (the pipeline
turns results into trailing out-parameters), all through its C interface. Inputs are passed
without copies when they are C-contiguous with the right dtype; results are written straight
into fresh numpy arrays that belong to the caller."""

import ctypes
import ctypes.util
import functools
import os
import subprocess
import sys
import threading

import numpy as np

from tgraph import dialect
from tgraph.dialect import VerifyError
from .dtypes import convert_input
from .errors import TGraphError, TGraphTypeError, user_facing
from .mlir import execution_engine, ir

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


def _read_only_arguments(fop):
    """Mark every argument `bufferization.writable = false`: bufferization then copies before
    writing, so the caller's arrays (passed in place) are never changed."""
    n_args = len(ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value).inputs)
    existing = list(ir.ArrayAttr(fop.attributes["arg_attrs"])) if "arg_attrs" in fop.attributes else [None] * n_args
    dicts = []
    for attrs in existing:
        entries = {a.name: a.attr for a in ir.DictAttr(attrs)} if attrs is not None else {}
        entries["bufferization.writable"] = ir.BoolAttr.get(False)
        dicts.append(ir.DictAttr.get(entries))
    fop.attributes["arg_attrs"] = ir.ArrayAttr.get(dicts)


def _prepare_functions(module):
    for op in module.body.operations:
        if op.operation.name == "func.func":
            name = ir.StringAttr(op.attributes["sym_name"]).value
            ir.SymbolTable.replace_all_symbol_uses(name, SYMBOL_PREFIX + name, module.operation)
            ir.SymbolTable.set_symbol_name(op, SYMBOL_PREFIX + name)
            _read_only_arguments(op)


def _diagnostics(err):
    lines = [f"{d.location}: {d.message}" for d in err.error_diagnostics]
    return "\n".join(lines) or str(err).strip()


def parse_entry(module, func_name, who, where):
    """(a fresh ir.Module, the entry's name, input specs, output specs) from tg IR text, an
    ir.Module or a Graph; call inside dialect.context(). TGraphErrors name `who` and `where`."""
    from .graph import Graph

    if isinstance(module, Graph):
        func_name = func_name or module.name
        module = module.module
    if isinstance(module, ir.Module):
        module = module.operation.get_asm(enable_debug_info=True)
    if not isinstance(module, str):
        raise TGraphTypeError(f"{who} needs tg IR text, an ir.Module or a tgraph.Graph, got {type(module).__name__}")
    try:
        parsed = ir.Module.parse(module)
    except ir.MLIRError as err:
        raise TGraphError(f"cannot parse the module: {_diagnostics(err)}") from None
    graph = Graph(parsed, func_name)
    try:
        inputs, outputs = graph._signature()
    except VerifyError as err:
        raise TGraphError(f"@{graph.name} cannot run on {where}: its signature must be static tensors "
                          f"of tg element types ({err})") from None
    return parsed, graph.name, inputs, outputs


def run_pipeline(module, pipeline, log, what):
    """Run pipeline text on module: in one pass manager run, or pass by pass calling
    `log(pass, module operation)` after each. On failure a TGraphError names the pass that failed
    and carries MLIR's diagnostics (with the ops' locations): after a one-run failure the pipeline
    is run again pass by pass, on a copy kept for the purpose, to find that pass."""
    from tgraph.passes import PipelineError, build_pass_manager
    from tgraph.passes.pipeline import expand, parse_pipeline

    def fail(stage, err):
        detail = _diagnostics(err) if isinstance(err, ir.MLIRError) else str(err)
        head = f"cannot compile {what}" + (f": the pass {stage} failed" if stage else "")
        raise TGraphError(f"{head}:\n{detail}") from None

    try:
        elements = [element for _, _, element in expand(parse_pipeline(pipeline))]
    except PipelineError as err:
        fail(None, err)
    if log is None:
        backup = module.operation.clone()
        try:
            pm = build_pass_manager(pipeline)
            pm.enable_verifier(False)  # half the pipeline's time: verify once, at the end, instead
            pm.run(module.operation)
            module.operation.verify()
            return
        except (ir.MLIRError, PipelineError) as err:
            first_error = err
        # Find the failing pass on the copy; its diagnostics are the ones to report.
        try:
            for element in elements:
                build_pass_manager(element).run(backup)
                backup.verify()
        except (ir.MLIRError, PipelineError) as err:
            fail(element, err)
        finally:
            backup.erase()
        fail(None, first_error)  # only the one-run pipeline failed (never seen): report it as it is
    for element in elements:
        try:
            build_pass_manager(element).run(module.operation)
        except (ir.MLIRError, PipelineError) as err:
            fail(element, err)
        log(element, module.operation)


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


def conform(arrays, specs, where, what, names=None):
    """Arrays matching `specs` exactly (dtype, shape, C-contiguous and aligned), converted by
    tgraph's rule for arguments (dtypes.convert_input, as the interpreter does). A TGraphError
    names the argument (`names[i]` if given) otherwise."""
    if len(arrays) != len(specs):
        raise TGraphError(f"{where}: expected {len(specs)} {what}, got {len(arrays)}")
    return [conform_one(a, spec, where, argument_label(what, i, names))
            for i, (a, spec) in enumerate(zip(arrays, specs))]


def argument_label(what, i, names=None):
    """How errors name argument `i` of `what` ("inputs"): "input 1 ('w')"."""
    return f"{what[:-1]} {i}" + (f" ('{names[i]}')" if names else "")


def conform_one(a, spec, where, label):
    """One argument conformed as `conform` does; `label` names it in errors."""
    array = convert_input(a, spec, where, label)
    if not (array.flags.c_contiguous and array.flags.aligned):  # else used in place, never written
        array = np.array(array, order="C")
    return array


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


def vector_width():
    """f32 vector lanes to compile for: TGRAPH_VECTOR_WIDTH (4, 8 or 16), else the host's."""
    from tgraph.passes.tg_cpu_codegen import vector_width as codegen_vector_width

    try:
        return codegen_vector_width()
    except ValueError as err:
        raise TGraphError(str(err)) from None


def threads_for(requested=None):
    """Threads to compile for: `requested`, else TGRAPH_NUM_THREADS, else every core; 1 without OpenMP."""
    from tgraph.passes.tg_cpu_codegen import default_threads

    threads = requested or default_threads()
    return threads if threads > 1 and openmp_runtime() else 1


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
    `log(pass name, module operation)`, when given, is called after every pass of the pipeline
    (the pipeline then runs one pass at a time)."""

    @user_facing
    def __init__(self, module, func_name=None, log=None, threads=None, pipeline=None):
        with dialect.context():
            self._module, self.name, self.input_specs, self.output_specs = parse_entry(
                module, func_name, "CpuExecutable", "the CPU")
            self.threads = threads_for(threads)
            self.vector_width = vector_width()
            self.loaded_from = None
            keep_freed_memory()
            f16_runtime()
            self._compile(log, pipeline or f"tg-cpu-pipeline{{threads={self.threads} vector-width={self.vector_width}}}")
        self._ready()

    def _ready(self):
        self._output_layout = [(s.shape, s.np_dtype) for s in self.output_specs]
        self._local = threading.local()

    @classmethod
    def load(cls, library, name, input_specs, output_specs, threads, allocations=(0, 0)):
        """A CpuExecutable over a shared library written by `save` (no MLIR work at all)."""
        self = cls.__new__(cls)
        self.name, self.input_specs, self.output_specs, self.threads = name, input_specs, output_specs, threads
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
        from tgraph.passes.tg_record_allocations import LARGEST, TOTAL

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
            descriptors = [_descriptor(s) for s in self.input_specs + self.output_specs]
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
        return outputs

    def __repr__(self):
        ins = ", ".join(map(str, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        return f"<tgraph.CpuExecutable @{self.name}({ins}) -> {outs}>"
