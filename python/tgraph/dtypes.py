"""Element types and input specs: `tgraph.f32[3, 4]` is a TensorSpec of shape (3, 4)."""

from dataclasses import dataclass

import ml_dtypes
import numpy as np

from .errors import TGraphError, TGraphTypeError

# MLIR element type spelling -> numpy dtype. The interpreter computes in these dtypes.
NUMPY_DTYPES = {
    "f16": np.dtype(np.float16),
    "bf16": np.dtype(ml_dtypes.bfloat16),
    "f32": np.dtype(np.float32),
    "f64": np.dtype(np.float64),
    "i1": np.dtype(np.bool_),
    "i32": np.dtype(np.int32),
    "i64": np.dtype(np.int64),
}
FLOAT_TYPES = ("f16", "bf16", "f32", "f64")
MAX_BYTES = 1 << 63  # a tensor's size in bytes must fit in the int64 sizes and offsets of compiled code
INT_TYPES = ("i32", "i64")
_BY_NUMPY = {v: k for k, v in NUMPY_DTYPES.items()}


def is_float(dtype):
    return dtype in FLOAT_TYPES


def from_numpy(np_dtype):
    """The tg element type of a numpy dtype, or a TGraphTypeError naming the supported ones."""
    key = np.dtype(np_dtype)
    if key not in _BY_NUMPY:
        raise TGraphTypeError(
            f"numpy dtype {key} has no tg element type; use one of "
            + ", ".join(f"{np.dtype(v).name} ({k})" for k, v in NUMPY_DTYPES.items())
        )
    return _BY_NUMPY[key]


def to_numpy(dtype):
    return NUMPY_DTYPES[dtype]


@dataclass(frozen=True)
class TensorSpec:
    """A static tensor type: shape and element type (MLIR spelling: 'f32', 'i1', ...)."""

    shape: tuple
    dtype: str

    def __post_init__(self):
        shape = tuple(self.shape) if isinstance(self.shape, (tuple, list)) else (self.shape,)
        for d in shape:  # 2.7 would silently become 2, True 1
            if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)):
                raise TGraphTypeError(f"dimension {d!r} in shape {shape} is not an integer")
        object.__setattr__(self, "shape", tuple(int(d) for d in shape))
        if self.dtype not in NUMPY_DTYPES:
            raise TGraphTypeError(f"unknown element type {self.dtype!r}; use one of {', '.join(NUMPY_DTYPES)}")
        if any(d < 0 for d in self.shape):
            raise TGraphError(f"negative dimension in shape {self.shape}")
        count = 1
        for d in self.shape:
            count *= d
        if count * NUMPY_DTYPES[self.dtype].itemsize >= MAX_BYTES:
            raise TGraphError(f"shape {self.shape} of {self.dtype} has {count} elements: its size in bytes does not "
                              "fit in a signed 64-bit integer")

    @property
    def rank(self):
        return len(self.shape)

    @property
    def size(self):
        count = 1
        for d in self.shape:
            count *= d
        return count

    @property
    def np_dtype(self):
        return NUMPY_DTYPES[self.dtype]

    def __str__(self):
        return "tensor<" + "".join(f"{d}x" for d in self.shape) + self.dtype + ">"

    @staticmethod
    def of(value):
        """Spec of a TensorSpec, a numpy array (or anything np.asarray takes)."""
        if isinstance(value, TensorSpec):
            return value
        if isinstance(value, DType):
            raise TGraphError(f"element type {value.name} needs a shape: write tgraph.{value.name}[3, 4], or tgraph.{value.name}[()] for a scalar")
        array = np.asarray(value)
        return TensorSpec(array.shape, from_numpy(array.dtype))


class DType:
    """`f32[3, 4]` makes a TensorSpec; `f32[()]` a scalar one."""

    def __init__(self, name, mlir_name):
        self.name, self.mlir_name = name, mlir_name

    def __getitem__(self, shape):
        if not isinstance(shape, tuple):
            shape = (shape,)
        return TensorSpec(shape, self.mlir_name)

    def __repr__(self):
        return f"tgraph.{self.name}"


f16 = DType("f16", "f16")
bf16 = DType("bf16", "bf16")
f32 = DType("f32", "f32")
f64 = DType("f64", "f64")
i32 = DType("i32", "i32")
i64 = DType("i64", "i64")
bool_ = DType("bool_", "i1")
DTYPES = {d.name: d for d in (f16, bf16, f32, f64, i32, i64, bool_)}


def dtype_name(dtype):
    """Accepts 'f32', tgraph.f32, np.float32 or np.dtype('float32'); returns 'f32'."""
    if isinstance(dtype, DType):
        return dtype.mlir_name
    if isinstance(dtype, str) and dtype in NUMPY_DTYPES:
        return dtype
    if isinstance(dtype, str) and dtype in DTYPES:
        return DTYPES[dtype].mlir_name
    try:
        return from_numpy(dtype)
    except TypeError:
        raise TGraphTypeError(f"unknown element type {dtype!r}; use one of {', '.join(NUMPY_DTYPES)}") from None
