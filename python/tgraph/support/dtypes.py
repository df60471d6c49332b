"""Element types and input specs: `tgraph.f32[3, 4]` is a TensorSpec of shape (3, 4)."""

import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import TGraphError, TGraphTypeError


class _ElementTypes(Mapping):
    """MLIR element type spelling -> numpy dtype. bf16's dtype comes from ml_dtypes, imported on
    first use: its import takes longer (about 0.7 s) than the rest of tgraph's together."""

    def __init__(self, dtypes):
        """`dtypes`: name -> numpy dtype, or (module, attribute) for one imported on first use."""
        self._order = list(dtypes)
        self._dtypes = {k: np.dtype(v) for k, v in dtypes.items() if not isinstance(v, tuple)}
        self._lazy = {k: v for k, v in dtypes.items() if isinstance(v, tuple)}

    def __getitem__(self, name):
        if name in self._lazy:
            module, attribute = self._lazy.pop(name)
            self._dtypes[name] = np.dtype(getattr(importlib.import_module(module), attribute))
        return self._dtypes[name]

    def __contains__(self, name):
        return name in self._dtypes or name in self._lazy

    def __iter__(self):
        return iter(self._order)

    def __len__(self):
        return len(self._order)


# The interpreter computes in these dtypes.
NUMPY_DTYPES = _ElementTypes({"f16": np.float16, "bf16": ("ml_dtypes", "bfloat16"), "f32": np.float32,
                              "f64": np.float64, "i1": np.bool_, "i32": np.int32, "i64": np.int64})
FLOAT_TYPES = ("f16", "bf16", "f32", "f64")
MAX_BYTES = 1 << 63  # a tensor's size in bytes must fit in the int64 sizes and offsets of compiled code
INT_TYPES = ("i32", "i64")
_BY_NUMPY = {v: k for k, v in NUMPY_DTYPES._dtypes.items()}


def is_float(dtype):
    return dtype in FLOAT_TYPES


def from_numpy(np_dtype):
    """The tg element type of a numpy dtype, or a TGraphTypeError naming the supported ones."""
    key = np.dtype(np_dtype)
    if key.name == "bfloat16" and key.type.__module__.startswith("ml_dtypes"):  # its owner imported ml_dtypes
        return "bf16"
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
        if self.size * NUMPY_DTYPES[self.dtype].itemsize >= MAX_BYTES:
            raise TGraphError(f"shape {self.shape} of {self.dtype} has {self.size} elements: its size in bytes does "
                              "not fit in a signed 64-bit integer")

    @property
    def rank(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)  # Python ints: never wraps as an int64 product would

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


def convert_input(value, spec, where, label):
    """`value` (an array, a list, a Python scalar) as a numpy array of `spec`'s shape and dtype,
    by tgraph's one rule for arguments (the interpreter and both backends):
      - the shape must be the spec's exactly (no broadcasting);
      - numpy's `same_kind` casts, plus integers and booleans to floats: f64 -> f32 / f16 / bf16
        rounds to nearest, i64 -> i32 narrows, i32 / bool -> f32 converts;
      - nothing is lost silently: an integer that does not fit the target type, or a finite float
        beyond the target's range (it would become inf), is a TGraphError naming the argument;
      - floats to integers, and anything to bool, are refused (cast explicitly with astype).
    `where` and `label` name the call and the argument in errors."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged lists, objects numpy cannot read
        raise TGraphTypeError(f"{where}: {label} cannot be read as an array ({err})") from None
    if array.dtype == object:
        raise TGraphTypeError(f"{where}: {label} is a {type(value).__name__} that is not a rectangular array of "
                              f"numbers (ragged rows or other objects); it must be {spec}")
    if array.shape != spec.shape:
        raise TGraphError(f"{where}: {label} must have shape {spec.shape} ({spec}), got shape {array.shape}")
    target = spec.np_dtype
    if array.dtype == target:
        return array
    if not (np.can_cast(array.dtype, target, "same_kind") or array.dtype.kind in "iub" and target.kind == "f"):
        raise TGraphTypeError(f"{where}: {label} must be {spec} ({np.dtype(target).name}), got an array of "
                              f"{array.dtype}; convert it first (e.g. .astype(np.{np.dtype(target).name}))")
    if target.kind in "iu" and array.dtype.kind in "iu" and array.size:
        info = np.iinfo(target)
        low, high = array.min(), array.max()
        if low < info.min or high > info.max:
            bad = low if low < info.min else high
            raise TGraphError(f"{where}: {label} holds {bad}, which does not fit in {spec.dtype} "
                              f"({info.min}..{info.max}); pass an array of {spec.dtype} values or change the input's type")
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(target)
    if target.kind == "f" and array.dtype.kind == "f" and array.size:
        overflow = np.isfinite(array) & ~np.isfinite(converted)
        if overflow.any():
            raise TGraphError(f"{where}: {label} holds {array[overflow].flat[0]}, beyond the range of {spec.dtype} "
                              f"(it would become inf); scale it, or make the input {array.dtype}")
    return converted
