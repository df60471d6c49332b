"""Constants: a dense `tg.constant`, and `tg.splat` of one scalar to a shape."""

import numpy as np

from .ad import defzero
from .core import DENSE, ELEMENT_TYPE, F64, I64_ARRAY, defop, require
from tgraph.dtypes import TensorSpec, from_numpy, to_numpy


def _infer_constant(specs, value):
    require(not specs, "takes no operands")
    return TensorSpec(value.shape, from_numpy(value.dtype))


defop("constant", "constants", (), _infer_constant, lambda value: value, attrs={"value": DENSE},
      doc="A tensor given in full: `{value = dense<...> : tensor<...>}`.")


def _infer_splat(specs, value, shape, dtype):
    require(not specs, "takes no operands")
    require(all(d >= 0 for d in shape), f"shape {list(shape)} has a negative dimension")
    return TensorSpec(shape, dtype)


defop("splat", "constants", (), _infer_splat,
      lambda value, shape, dtype: np.full(shape, value, dtype=to_numpy(dtype)),
      attrs={"value": F64, "shape": I64_ARRAY, "dtype": ELEMENT_TYPE},
      doc="Every element equal to `value` (an f64, converted to `dtype`).")


defzero("constant")
defzero("splat")
