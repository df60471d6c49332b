"""DLPack through ctypes: export a buffer as a `dltensor` capsule and read one from any producer
(PyTorch, CuPy, JAX, numpy), so device arrays cross libraries without copies."""

import ctypes

import numpy as np

CPU, CUDA = 1, 2  # DLDeviceType
_INT, _UINT, _FLOAT, _BFLOAT, _BOOL = 0, 1, 2, 4, 6  # DLDataTypeCode


class DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class DLManagedTensor(ctypes.Structure):
    pass


_DELETER = ctypes.CFUNCTYPE(None, ctypes.POINTER(DLManagedTensor))
DLManagedTensor._fields_ = [("dl_tensor", DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", _DELETER)]

_api = ctypes.pythonapi
_api.PyCapsule_New.restype = ctypes.py_object
_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_SetName.argtypes = [ctypes.py_object, ctypes.c_char_p]
_api.PyCapsule_IsValid.argtypes = [ctypes.py_object, ctypes.c_char_p]

_exported = {}  # id(managed tensor) -> (its ctypes objects, the owner): alive until the consumer deletes it


def _dtype_code(dtype):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return _BOOL, 8
    if dtype.name == "bfloat16":
        return _BFLOAT, 16
    return {"i": _INT, "u": _UINT, "f": _FLOAT}[dtype.kind], dtype.itemsize * 8


def _numpy_dtype(code, bits):
    if code == _BOOL:
        return np.dtype(np.bool_)
    if code == _BFLOAT:
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    kind = {_INT: "i", _UINT: "u", _FLOAT: "f"}.get(code)
    if kind is None:
        raise TypeError(f"DLPack data type code {code} has no numpy equivalent")
    return np.dtype(f"{kind}{bits // 8}")


@_DELETER
def _delete(managed):
    _exported.pop(ctypes.addressof(managed.contents), None)


def to_capsule(pointer, shape, dtype, device, owner):
    """A `dltensor` capsule for a C-contiguous buffer at `pointer` on `device` ((type, id)); `owner`
    is kept alive until the consumer calls the deleter."""
    managed = DLManagedTensor()
    shape_array = (ctypes.c_int64 * max(1, len(shape)))(*shape)
    code, bits = _dtype_code(dtype)
    managed.dl_tensor = DLTensor(pointer, DLDevice(*device), len(shape), DLDataType(code, bits, 1),
                                 ctypes.cast(shape_array, ctypes.POINTER(ctypes.c_int64)), None, 0)
    managed.deleter = _delete
    _exported[ctypes.addressof(managed)] = (managed, shape_array, owner)
    # A capsule without a destructor: a consumer always calls the deleter (and renames the capsule).
    return _api.PyCapsule_New(ctypes.addressof(managed), b"dltensor", None)


class Imported:
    """A view of another library's buffer: pointer, shape, dtype, device; keeps the producer alive."""

    def __init__(self, pointer, shape, dtype, device, contiguous, keep):
        self.pointer, self.shape, self.dtype, self.device = pointer, shape, dtype, device
        self.contiguous, self._keep = contiguous, keep


def from_capsule(capsule, keep=None):
    """Read a `dltensor` capsule (the caller got it from obj.__dlpack__()); the capsule is marked used."""
    address = _api.PyCapsule_GetPointer(capsule, b"dltensor")
    managed = DLManagedTensor.from_address(address)
    t = managed.dl_tensor
    shape = tuple(t.shape[i] for i in range(t.ndim))
    dtype = _numpy_dtype(t.dtype.code, t.dtype.bits)
    contiguous = True
    if t.strides:
        expected = 1
        for i in reversed(range(t.ndim)):
            if shape[i] != 1 and t.strides[i] != expected:
                contiguous = False
            expected *= shape[i]
    _api.PyCapsule_SetName(capsule, b"used_dltensor")
    return Imported(t.data + t.byte_offset, shape, dtype, (t.device.device_type, t.device.device_id),
                    contiguous, (capsule, keep, _Release(managed)))


class _Release:
    """Calls the producer's deleter when the import is dropped."""

    def __init__(self, managed):
        self.managed = managed

    def __del__(self):
        if self.managed.deleter:
            self.managed.deleter(ctypes.pointer(self.managed))
