"""Calling compiled CPU code through MLIR's C interface with ctypes: memref descriptors, the
runtimes the code needs (OpenMP, libgcc's f16 conversions, malloc tuning) and `NativeFunction`,
one entry point of the code (the JIT's or a shared library's).

No MLIR here: tgraph.runtime uses this in processes without the bindings.

A compiled function takes one memref descriptor per input and one per result (the CPU pipeline
turns results into trailing out-parameters), through its packed C interface
(`_mlir__mlir_ciface_<name>(void **args)`). Inputs are passed without copies when they are
C-contiguous with the right dtype; results are written straight into fresh numpy arrays that
belong to the caller."""

import ctypes
import ctypes.util
import functools
import os
import sys
import threading

import numpy as np

_DESCRIPTOR_TYPES = {}


def descriptor_type(rank):
    """MLIR's ranked memref descriptor: {allocated, aligned, offset, sizes[rank], strides[rank]}
    (the element type is only behind the pointers, so one struct per rank serves every dtype)."""
    if rank not in _DESCRIPTOR_TYPES:
        fields = [("allocated", ctypes.c_void_p), ("aligned", ctypes.c_void_p), ("offset", ctypes.c_int64)]
        if rank:
            fields += [("sizes", ctypes.c_int64 * rank), ("strides", ctypes.c_int64 * rank)]
        _DESCRIPTOR_TYPES[rank] = type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})
    return _DESCRIPTOR_TYPES[rank]


def descriptor(spec):
    """A descriptor for a C-contiguous array of `spec` (strides in elements); its pointers are
    filled in per call."""
    d = descriptor_type(spec.rank)()
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
    visible to compiled code: LLVM calls them for f16 on a CPU without F16C instead of converting
    inline."""
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


def prepare_runtimes(threads):
    """What compiled code needs loaded before it runs; an OSError when it needs OpenMP (threads > 1)
    and no runtime is found."""
    if threads > 1 and not openmp_runtime():
        raise OSError("the code runs on several threads and needs an OpenMP runtime (libiomp5 or libomp), "
                      "and none was found")
    keep_freed_memory()
    f16_runtime()


# Functions whose largest buffer is at least this large check, before each call, that their
# buffers can be allocated (a trial malloc: for sizes this large glibc maps fresh pages, so the
# trial costs microseconds and touches no memory).
CHECKED_ALLOCATION = 256 << 20


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


def check_allocations(name, largest, total):
    """MemoryError when the largest buffer compiled code allocates cannot be allocated now (the
    code itself would write through a null pointer). All buffers at once are tried first: when
    they fit, nothing more is needed; when only their sum does not fit, the call goes ahead, since
    they need not all be live at the same time."""
    if _malloc_succeeds(total) or _malloc_succeeds(largest):
        return
    raise MemoryError(f"@{name} needs a buffer of {largest / 2**30:.1f} GiB ({largest} bytes), which cannot be "
                      "allocated on this machine; use smaller shapes, or split the computation into parts")


def packed_entry(library, symbol):
    """The packed C interface `_mlir__mlir_ciface_<symbol>` of a loaded ctypes library, callable
    with one `void **`; AttributeError when the library lacks it."""
    address = ctypes.cast(getattr(library, "_mlir__mlir_ciface_" + symbol), ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(None, ctypes.c_void_p)(address)


class NativeFunction:
    """One compiled entry point: `run(arrays conformed to input_specs)` -> list of numpy arrays,
    one per result. Subclasses (and `bind`) set `name`, `input_specs`, `output_specs`,
    `allocations` ((largest, total) bytes), `donated` ((input, output) pairs: output k is written
    into input i's array) and `_entry` (the packed C interface), then call `_ready`."""

    def bind(self, entry, name, input_specs, output_specs, allocations=(0, 0), donated=()):
        self._entry, self.name = entry, name
        self.input_specs, self.output_specs = list(input_specs), list(output_specs)
        self.allocations = tuple(allocations)
        self.donated = tuple(tuple(pair) for pair in donated)
        self._ready()
        return self

    def _ready(self):
        """Output k of a donated pair (i, k) is input i's array, written by the code: no buffer of its own."""
        self._donated_outputs = dict((k, i) for i, k in self.donated)
        self._output_layout = [(s.shape, s.np_dtype) for k, s in enumerate(self.output_specs)
                               if k not in self._donated_outputs]
        self._local = threading.local()

    def _call_state(self):
        """This thread's descriptors (one per argument, shapes filled in once) and the packed
        argument array pointing at them: a call only writes the data pointers."""
        state = getattr(self._local, "state", None)
        if state is None:
            outputs = [s for k, s in enumerate(self.output_specs) if k not in self._donated_outputs]
            descriptors = [descriptor(s) for s in self.input_specs + outputs]
            pointers = [ctypes.pointer(d) for d in descriptors]
            packed = (ctypes.c_void_p * len(pointers))(*[ctypes.addressof(p) for p in pointers])
            state = self._local.state = (descriptors, pointers, packed)
        return state

    def run(self, inputs):
        """Call the native code on arrays already conformed to the input specs; fresh outputs."""
        if self.allocations[0] >= CHECKED_ALLOCATION:
            check_allocations(self.name, *self.allocations)
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
