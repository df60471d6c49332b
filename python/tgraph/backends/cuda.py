"""CudaExecutable: a tg function compiled for NVIDIA GPUs (tg-gpu-pipeline, then PTX) and run
through the CUDA driver API (cuda-python's `cuda.bindings.driver`).

Compiling needs no GPU: the host function the pipeline leaves holds only buffers, views of them
and kernel launches, and becomes a `Plan` (which buffer each kernel parameter points at); the
kernels become PTX. The first call loads the PTX, allocates the intermediate buffers once and
uploads the constants; every call then copies host inputs in (device inputs are used in place),
allocates fresh outputs and replays the launches on one stream."""

import base64
import ctypes
import math
import threading

import numpy as np

from tgraph import dialect
from tgraph.passes.gpu.tg_gpu_pipeline import GpuPipeline

from . import cache, dlpack, ptx
from .base import Backend, register
from .common import parse_entry, read_only_arguments, refuse_collectives, run_pipeline
from ..support.arguments import conform
from ..support.symbols import functions, lookup
from ..support.dtypes import NUMPY_DTYPES, TensorSpec
from ..support.errors import TGraphError, TGraphTypeError, user_facing
from ..support.mlir import ir

NO_DRIVER = "target 'cuda' needs an NVIDIA driver; none found"


# ---------------------------------------------------------------------------- the host plan
class Buffer:
    """A root allocation: an argument (input or output `index`), a workspace, or a constant."""

    def __init__(self, kind, nbytes, index=None, data=None):
        self.kind, self.nbytes, self.index, self.data = kind, nbytes, index, data


class View:
    """A memref value: its root buffer and its layout (elements), all static."""

    def __init__(self, buffer, offset, sizes, strides):
        self.buffer, self.offset, self.sizes, self.strides = buffer, offset, sizes, strides


class Launch:
    def __init__(self, kernel, grid, block, params):
        self.kernel, self.grid, self.block = kernel, grid, block
        self.params = params  # [(ctypes type, value)] with value a number or (View, "pointer")


def _element_bytes(element_type):
    if isinstance(element_type, ir.IntegerType):
        return max(1, ir.IntegerType(element_type).width // 8)
    return {"f16": 2, "bf16": 2, "f32": 4, "f64": 8}[str(element_type)]


def _layout(memref_type):
    t = ir.MemRefType(memref_type)
    strides, offset = t.get_strides_and_offset()
    return offset, list(t.shape), list(strides)


def _scalar_param(value_type, value):
    if isinstance(value_type, ir.IndexType):
        return ctypes.c_int64, value
    if isinstance(value_type, ir.IntegerType):
        width = ir.IntegerType(value_type).width
        return {1: ctypes.c_bool, 8: ctypes.c_int8, 16: ctypes.c_int16, 32: ctypes.c_int32, 64: ctypes.c_int64}[width], value
    name = str(value_type)
    if name == "f32":
        return ctypes.c_float, value
    if name == "f64":
        return ctypes.c_double, value
    bits = np.array(value, dtype=NUMPY_DTYPES[name]).view(np.uint16)
    return ctypes.c_uint16, int(bits)


def _constant_value(op):
    attr = op.attributes["value"]
    if isinstance(attr, ir.FloatAttr):
        return attr.value
    if isinstance(attr, ir.BoolAttr):
        return int(attr.value)
    return ir.IntegerAttr(attr).value


def _global_data(module, name, memref_type):
    for op in module.body.operations:
        if op.operation.name == "memref.global" and ir.StringAttr(op.attributes["sym_name"]).value == name:
            attr = ir.DenseElementsAttr(op.attributes["initial_value"])
            t = ir.MemRefType(memref_type)
            try:
                data = np.array(attr)
            except Exception:
                raise TGraphError(f"the constant @{name} ({t}) cannot be read for the GPU") from None
            if attr.is_splat:
                data = np.full(t.shape, data.reshape(-1)[0], dtype=data.dtype)
            return np.require(data.reshape(t.shape), requirements="C")
    raise TGraphError(f"the constant @{name} is missing")


class Plan:
    """The host function as data: argument, workspace and constant buffers, and the launches."""

    def __init__(self, module, name):
        fn = lookup(module, name)
        self.buffers, self.launches = [], []
        values = {}
        block = fn.regions[0].blocks[0]
        for i, arg in enumerate(block.arguments):
            t = ir.MemRefType(arg.type)
            buffer = self._buffer("argument", math.prod(t.shape) * _element_bytes(t.element_type), index=i)
            values[arg] = View(buffer, *_layout(arg.type))
        for op in block.operations:
            kind = op.operation.name
            if kind == "arith.constant":
                values[op.result] = _constant_value(op)
            elif kind == "memref.alloc":
                t = ir.MemRefType(op.result.type)
                buffer = self._buffer("workspace", math.prod(t.shape) * _element_bytes(t.element_type))
                values[op.result] = View(buffer, *_layout(op.result.type))
            elif kind == "memref.get_global":
                data = _global_data(module, ir.FlatSymbolRefAttr(op.attributes["name"]).value, op.result.type)
                values[op.result] = View(self._buffer("constant", data.nbytes, data=data), *_layout(op.result.type))
            elif kind in ("memref.expand_shape", "memref.collapse_shape", "memref.subview", "memref.cast",
                          "memref.reinterpret_cast", "memref.transpose"):
                values[op.results[0]] = View(values[op.operands[0]].buffer, *_layout(op.results[0].type))
            elif kind == "gpu.launch_func":
                self.launches.append(self._launch(op, values))
            elif kind in ("func.return", "memref.dealloc"):
                pass
            else:
                raise TGraphError(f"@{name}: the GPU host code has an op the runtime cannot run: {kind}")

    def to_json(self):
        """The buffers (a constant's data as its C-order bytes) and the launches, whose pointer
        parameters name their view's buffer by its place in `buffers`."""
        where = {id(b): i for i, b in enumerate(self.buffers)}

        def param(ctype, value):
            if isinstance(value, tuple):
                view = value[0]
                value = {"buffer": where[id(view.buffer)], "offset": view.offset, "sizes": view.sizes,
                         "strides": view.strides}
            return [_CTYPE_NAMES[ctype], value]

        return {"buffers": [{"kind": b.kind, "nbytes": b.nbytes, "index": b.index,
                             "data": None if b.data is None else _array_json(b.data)} for b in self.buffers],
                "launches": [{"kernel": launch.kernel, "grid": launch.grid, "block": launch.block,
                              "params": [param(*p) for p in launch.params]} for launch in self.launches]}

    @classmethod
    def from_json(cls, data, arguments):
        """The Plan `to_json` described, for a function of `arguments` inputs and outputs
        (KeyError, IndexError, TypeError or ValueError if `data` is not such a description)."""
        self = cls.__new__(cls)
        self.buffers = []
        for b in _checked(data["buffers"], list):
            kind, nbytes = _checked(b["kind"], str), _checked(b["nbytes"], int)
            if kind == "argument":
                self.buffers.append(Buffer(kind, nbytes, index=_index(b["index"], arguments)))
            elif kind == "workspace":
                self.buffers.append(Buffer(kind, nbytes))
            elif kind == "constant":
                content = _array_from_json(b["data"])
                if content.nbytes != nbytes:
                    raise ValueError("a constant's data and size differ")
                self.buffers.append(Buffer(kind, nbytes, data=content))
            else:
                raise ValueError(f"unknown buffer kind {kind!r}")

        def param(entry):
            name, value = _checked(entry, list)
            ctype = _CTYPES[_checked(name, str)]
            if ctype is ctypes.c_void_p:
                view = View(self.buffers[_index(value["buffer"], len(self.buffers))], _checked(value["offset"], int),
                            _ints(value["sizes"]), _ints(value["strides"]))
                return ctype, (view, "pointer")
            return ctype, _checked(value, float if ctype in (ctypes.c_float, ctypes.c_double) else int)

        self.launches = [Launch(_checked(launch["kernel"], str), _ints(launch["grid"], 3), _ints(launch["block"], 3),
                                [param(p) for p in _checked(launch["params"], list)])
                         for launch in _checked(data["launches"], list)]
        return self

    def _buffer(self, kind, nbytes, index=None, data=None):
        b = Buffer(kind, nbytes, index, data)
        self.buffers.append(b)
        return b

    @staticmethod
    def _launch(op, values):
        attrs = op.operation
        kernel = str(ir.SymbolRefAttr(attrs.attributes["kernel"])).split("::")[-1].lstrip("@")
        operands = list(op.operands)
        sizes = [values[v] for v in operands[:6]]  # gridSizeX..Z, blockSizeX..Z
        params = []
        for v in operands[6:]:
            if isinstance(v.type, ir.MemRefType):
                view = values[v]
                params += [(ctypes.c_void_p, (view, "pointer")), (ctypes.c_void_p, (view, "pointer")),
                           (ctypes.c_int64, view.offset)]
                params += [(ctypes.c_int64, s) for s in view.sizes] + [(ctypes.c_int64, s) for s in view.strides]
            else:
                params.append(_scalar_param(v.type, values[v]))
        return Launch(kernel, sizes[:3], sizes[3:], params)


# ---------------------------------------------------------------------------- as plain data
_CTYPES = {"ptr": ctypes.c_void_p, "i1": ctypes.c_bool, "i8": ctypes.c_int8, "i16": ctypes.c_int16,
           "i32": ctypes.c_int32, "i64": ctypes.c_int64, "u16": ctypes.c_uint16, "f32": ctypes.c_float,
           "f64": ctypes.c_double}
_CTYPE_NAMES = {ctype: name for name, ctype in _CTYPES.items()}


def _checked(value, kind):
    """`value` if it is a `kind`, else a TypeError (an int passes as a float, a bool never as an int)."""
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__}")
    return value


def _index(value, length):
    """`value` if it is an int in range(length), else an IndexError (a negative one too)."""
    if not 0 <= _checked(value, int) < length:
        raise IndexError(f"index {value} out of range({length})")
    return value


def _ints(value, length=None):
    items = [_checked(v, int) for v in _checked(value, list)]
    if length is not None and len(items) != length:
        raise ValueError(f"expected {length} integers, got {len(items)}")
    return items


def _spec_json(spec):
    return [list(spec.shape), spec.dtype]


def _spec_from_json(value):
    shape, dtype = _checked(value, list)
    return TensorSpec(tuple(_ints(shape)), _checked(dtype, str))


def _array_json(array):
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "bytes": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")}


def _array_from_json(value):
    dtype = np.dtype(_checked(value["dtype"], str))
    if dtype.kind not in "biuf":  # numbers only: never an object array
        raise ValueError(f"a constant of dtype {dtype}")
    raw = base64.b64decode(_checked(value["bytes"], str), validate=True)
    return np.frombuffer(raw, dtype).reshape(_ints(value["shape"])).copy()


# ---------------------------------------------------------------------------- the driver
class _Driver:
    """The CUDA driver on device 0 with its primary context, started on first use. `api` is
    cuda-python's `cuda.bindings.driver` or a module with the same functions (the tests' CPU
    emulator)."""

    _instance, _lock = None, threading.Lock()

    @classmethod
    def get(cls):
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self, api=None):
        if api is None:
            try:
                from cuda.bindings import driver as api
            except ImportError:
                raise TGraphError("target 'cuda' needs cuda-python to run kernels: pip install 'tgraph[cuda]'") from None
        self.cu = api
        try:
            self.check(api.cuInit(0))
            count = self.check(api.cuDeviceGetCount())
        except TGraphError:
            raise TGraphError(NO_DRIVER) from None
        except Exception:  # the bindings raise their own error when libcuda cannot be loaded
            raise TGraphError(NO_DRIVER) from None
        if not count:
            raise TGraphError("target 'cuda' needs an NVIDIA GPU; the driver found none")
        self.device = self.check(api.cuDeviceGet(0))
        self.context = self.check(api.cuDevicePrimaryCtxRetain(self.device))
        self.current()
        major = self.check(api.cuDeviceGetAttribute(
            api.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, self.device))
        minor = self.check(api.cuDeviceGetAttribute(
            api.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, self.device))
        self.sm = major * 10 + minor
        name = self.check(api.cuDeviceGetName(100, self.device))
        self.name = (name.decode() if isinstance(name, bytes) else str(name)).split("\0")[0]

    def current(self):
        self.check(self.cu.cuCtxSetCurrent(self.context))

    def check(self, result, doing=""):
        """The values of a driver call's (CUresult, values...) result; a TGraphError naming the
        error and what was being done when it is not CUDA_SUCCESS."""
        err, *rest = result if isinstance(result, tuple) else (result,)
        if int(err) != 0:
            _, name = self.cu.cuGetErrorName(err)
            name = name.decode() if isinstance(name, bytes) else name
            raise TGraphError(f"CUDA error {name}" + (f" while {doing}" if doing else ""))
        return rest[0] if len(rest) == 1 else (tuple(rest) if rest else None)

    def alloc(self, nbytes):
        return int(self.check(self.cu.cuMemAlloc(max(nbytes, 1)), f"allocating {nbytes} bytes on the GPU"))

    def free(self, pointer):
        self.cu.cuMemFree(pointer)


def driver():
    return _Driver.get()


@user_facing
def to_device(array):
    """A host array copied to the GPU as a DeviceArray (C order): inputs that stay on the device
    across calls, as jax.device_put or tensor.cuda()."""
    host = np.require(array, requirements="C")  # not ascontiguousarray: it makes a 0-d array 1-d
    if host.dtype == object:
        raise TGraphTypeError("to_device needs a numeric array")
    d = driver()
    d.current()
    out = DeviceArray(d.alloc(host.nbytes), host.shape, host.dtype)
    if host.nbytes:
        d.check(d.cu.cuMemcpyHtoD(out.pointer, host.ctypes.data, host.nbytes))
    return out


# ---------------------------------------------------------------------------- device arrays
class DeviceArray:
    """An array in GPU memory: the result of a `target='cuda'` call. `.numpy()` copies it to the
    host; `__dlpack__` and `__cuda_array_interface__` hand it to PyTorch, CuPy or JAX without a copy."""

    def __init__(self, pointer, shape, dtype, owned=True):
        self.pointer, self.shape, self.dtype, self._owned = pointer, tuple(shape), np.dtype(dtype), owned

    @property
    def nbytes(self):
        return math.prod(self.shape) * self.dtype.itemsize

    @property
    def ndim(self):
        return len(self.shape)

    def numpy(self):
        out = np.empty(self.shape, self.dtype)
        if out.nbytes:
            d = driver()
            d.check(d.cu.cuMemcpyDtoH(out.ctypes.data, self.pointer, out.nbytes))
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.numpy()
        return out.astype(dtype) if dtype is not None else out

    def __float__(self):
        return float(self.numpy())

    def item(self):
        return self.numpy().item()

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "data": (self.pointer, False), "version": 3,
                "strides": None}

    def __dlpack_device__(self):
        return (dlpack.CUDA, 0)

    def __dlpack__(self, stream=None, **kwargs):
        return dlpack.to_capsule(self.pointer, self.shape, self.dtype, (dlpack.CUDA, 0), self)

    def __del__(self):
        if self._owned and self.pointer and _Driver._instance is not None:
            _Driver._instance.free(self.pointer)
            self.pointer = 0

    def __repr__(self):
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype.name})"


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return tuple(reversed(strides))


def _device_pointer(array, spec, where, label):
    """The device address of an array already on the GPU, or None if it is not on the GPU."""
    interface = getattr(array, "__cuda_array_interface__", None)
    if interface is not None:
        dtype, shape = np.dtype(interface["typestr"]), tuple(interface["shape"])
        strides = interface.get("strides")
        contiguous = strides is None or tuple(strides) == _c_strides(shape, dtype.itemsize)
        pointer, keep = interface["data"][0], array
    elif hasattr(array, "__dlpack_device__") and array.__dlpack_device__()[0] == dlpack.CUDA:
        imported = dlpack.from_capsule(array.__dlpack__(), keep=array)
        dtype, shape, contiguous, pointer, keep = (imported.dtype, imported.shape, imported.contiguous,
                                                   imported.pointer, imported)
    else:
        return None
    if shape != spec.shape or dtype != spec.np_dtype or not contiguous:
        raise TGraphTypeError(f"{where}: {label} is on the GPU as {dtype}{list(shape)}"
                              f"{'' if contiguous else ' (not contiguous)'}; it must be a contiguous {spec} "
                              f"({np.dtype(spec.np_dtype).name}) array")
    return pointer, keep


def conform_device(arrays, specs, where, what, names=None):
    """support.arguments.conform, where arrays already on the GPU pass through as (pointer, keep-alive)."""
    return conform(arrays, specs, where, what, names, on_device=_device_pointer)


# ---------------------------------------------------------------------------- the executable
class CudaExecutable:
    """`CudaExecutable(graph)(*arrays)` -> list of DeviceArrays, one per result. Compiling needs
    no GPU; `.ptx`, `.llvm_ir` and `.plan` are available at once. `to_json` and `from_json` turn
    it into plain data and back, without its device state (the disk cache keeps it that way):
    loaded again, its first call loads the PTX."""

    @user_facing
    def __init__(self, module, func_name=None, log=None, sm=None):
        with dialect.context():
            module, self.name, self.input_specs, self.output_specs = parse_entry(
                module, func_name, "CudaExecutable", "the GPU")
            refuse_collectives(module, "the GPU (target 'cuda')")
            for fop in functions(module):  # arrays already on the GPU are passed in place: never written
                read_only_arguments(fop)
            run_pipeline(module, GpuPipeline().stages(), log, f"@{self.name} for the GPU")
            self.plan = Plan(module, self.name)
            self.llvm_ir = ptx.device_llvm_ir(module)
        self.sm = sm or ptx.DEFAULT_SM
        self.ptx = ptx.to_ptx(self.llvm_ir, self.sm) if self.plan.launches else ""
        self._unloaded()

    def _unloaded(self):
        self._lock, self._loaded = threading.Lock(), None

    def to_json(self):
        """Everything but the device state, as JSON-ready data (str, int, float, None, lists, dicts)."""
        return {"name": self.name, "sm": self.sm, "ptx": self.ptx, "llvm_ir": self.llvm_ir,
                "inputs": [_spec_json(s) for s in self.input_specs],
                "outputs": [_spec_json(s) for s in self.output_specs],
                **self.plan.to_json()}

    @classmethod
    def from_json(cls, data):
        """The CudaExecutable `to_json` described; a ValueError when `data` is not such a description."""
        self = cls.__new__(cls)
        try:
            self.name, self.sm = _checked(data["name"], str), _checked(data["sm"], int)
            self.ptx, self.llvm_ir = _checked(data["ptx"], str), _checked(data["llvm_ir"], str)
            self.input_specs = [_spec_from_json(s) for s in _checked(data["inputs"], list)]
            self.output_specs = [_spec_from_json(s) for s in _checked(data["outputs"], list)]
            self.plan = Plan.from_json(data, len(self.input_specs) + len(self.output_specs))
        except (KeyError, IndexError, TypeError) as e:
            raise ValueError(f"not a CudaExecutable description: {e!r}") from None
        self._unloaded()
        return self

    def _load(self):
        """Load the kernels and allocate the workspaces and constants (first call only)."""
        d = driver()
        d.current()
        functions = {}
        if self.plan.launches:
            module = d.check(d.cu.cuModuleLoadData(self.ptx.encode() + b"\0"), f"loading the PTX of @{self.name}")
            for launch in self.plan.launches:
                if launch.kernel not in functions:
                    functions[launch.kernel] = d.check(d.cu.cuModuleGetFunction(module, launch.kernel.encode()))
        addresses = {}
        for b in self.plan.buffers:
            if b.kind == "workspace":
                addresses[id(b)] = d.alloc(b.nbytes)
            elif b.kind == "constant":
                addresses[id(b)] = d.alloc(b.nbytes)
                d.check(d.cu.cuMemcpyHtoD(addresses[id(b)], b.data.ctypes.data, b.nbytes))
        stream = d.check(d.cu.cuStreamCreate(0))
        staging = [d.alloc(math.prod(s.shape) * np.dtype(s.np_dtype).itemsize) for s in self.input_specs]
        # Each launch's parameters live in ctypes objects; a call only rewrites argument pointers.
        launches, patches = [], []
        for launch in self.plan.launches:
            values = []
            for ctype, value in launch.params:
                if isinstance(value, tuple):
                    view = value[0]
                    cell = ctypes.c_void_p(addresses.get(id(view.buffer)))
                    if view.buffer.kind == "argument":
                        patches.append((cell, view.buffer.index))
                else:
                    cell = ctype(value)
                values.append(cell)
            pointers = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
            launches.append((functions[launch.kernel], launch.grid, launch.block, pointers, values))
        self._loaded = (d, stream, launches, patches, staging)
        return self._loaded

    @user_facing
    def __call__(self, *arrays):
        return self.run(conform_device(arrays, self.input_specs, f"@{self.name}", "inputs"))

    def run(self, inputs):
        """Run on conformed inputs (numpy arrays, or (device pointer, keep-alive) pairs): fresh DeviceArrays."""
        with self._lock:
            d, stream, launches, patches, staging = self._loaded or self._load()
            d.current()
            pointers = []
            for x, buffer in zip(inputs, staging):
                if isinstance(x, np.ndarray):  # host data goes through this object's input buffer
                    if x.nbytes:
                        d.check(d.cu.cuMemcpyHtoDAsync(buffer, x.ctypes.data, x.nbytes, stream))
                    pointers.append(buffer)
                else:
                    pointers.append(x[0])
            outputs = [DeviceArray(d.alloc(math.prod(s.shape) * np.dtype(s.np_dtype).itemsize), s.shape, s.np_dtype)
                       for s in self.output_specs]
            pointers += [o.pointer for o in outputs]
            for cell, index in patches:
                cell.value = pointers[index]
            for function, grid, block, params, _ in launches:
                d.check(d.cu.cuLaunchKernel(function, *grid, *block, 0, stream, ctypes.addressof(params), 0),
                        f"launching a kernel of @{self.name}")
            d.check(d.cu.cuStreamSynchronize(stream), f"running the kernels of @{self.name}")
            return outputs

    def __repr__(self):
        ins = ", ".join(map(str, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        return f"<tgraph.CudaExecutable @{self.name}({ins}) -> {outs}; {len(self.plan.launches)} kernels>"


class CudaBackend(Backend):
    """NVIDIA GPUs: tg-gpu-pipeline, PTX from the kernels, a launch plan for the host function
    (compiling needs no GPU; a call does); arrays already on the GPU are used where they are; the
    cache keeps the executable as a JSON document (CudaExecutable.to_json)."""

    name = "cuda"
    stages = ("linalg", "bufferized", "gpu", "nvvm", "llvm", "ptx")
    artifacts = {"llvm": "llvm_ir", "ptx": "ptx"}

    def compile(self, module, name, log=None, donate=()):
        return CudaExecutable(module, name, log=log)  # never asked to donate (donates is False)

    def conform(self, arrays, specs, where, what, names=None):
        return conform_device(arrays, specs, where, what, names)

    def cache_options(self):
        return ["cuda", ptx.DEFAULT_SM]

    def load_cached(self, digest):
        document = cache.load_document(digest, ".cuda.json")
        if document is None:
            return None
        try:
            return CudaExecutable.from_json(document)
        except (ValueError, RecursionError):  # stale or not ours: compiled again
            cache.discard_document(digest, ".cuda.json")
            return None

    def store_cached(self, digest, executable):
        cache.store_document(digest, ".cuda.json", executable.to_json())


register(CudaBackend())
