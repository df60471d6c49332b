"""Constants: a dense `tg.constant`, `tg.splat` of one scalar to a shape, and `tg.iota`."""

import numpy as np

from .ad import defzero
from .batching import defbatch_nullary
from .core import DENSE, ELEMENT_TYPE, F64, I64, I64_ARRAY, defop, element_type, require, tensor_type
from tgraph.support.dtypes import TensorSpec, from_numpy, is_float, to_numpy
from tgraph.support.mlir import arith, ir, linalg, tensor


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


IOTA_TYPES = ("f16", "bf16", "f32", "f64", "i32", "i64")


def _infer_iota(specs, shape, dtype, dimension):
    require(not specs, "takes no operands")
    require(all(d >= 0 for d in shape), f"shape {list(shape)} has a negative dimension")
    require(0 <= dimension < len(shape), f"dimension {dimension} is out of range for shape {list(shape)}")
    require(dtype in IOTA_TYPES, f"element type {dtype} is not one of {', '.join(IOTA_TYPES)}")
    return TensorSpec(shape, dtype)


def _iota(shape, dtype, dimension):
    counts = np.arange(shape[dimension]).reshape([-1 if a == dimension else 1 for a in range(len(shape))])
    return np.broadcast_to(counts, shape).astype(to_numpy(dtype))


def _lower_iota(out, shape, dtype, dimension):
    """A parallel linalg.generic writing its own index along `dimension`, converted to `dtype`."""
    t = element_type(dtype)
    rank = len(shape)
    identity = ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))
    parallel = ir.Attribute.parse("#linalg.iterator_type<parallel>")
    op = linalg.GenericOp([tensor_type(out)], [], [tensor.EmptyOp(list(shape), t).result],
                          ir.ArrayAttr.get([identity]), ir.ArrayAttr.get([parallel] * rank))
    block = op.regions[0].blocks.append(t)
    with ir.InsertionPoint(block):
        index = linalg.IndexOp(ir.IntegerAttr.get(ir.IntegerType.get_signless(64), dimension)).result
        count = arith.index_cast(ir.IntegerType.get_signless(64), index)
        if is_float(dtype):  # rounded to nearest, as numpy's astype
            value = arith.sitofp(t, count)
        else:
            value = count if dtype == "i64" else arith.trunci(t, count)
        linalg.YieldOp([value])
    return op.result


defop("iota", "constants", (), _infer_iota, _iota,
      attrs={"shape": I64_ARRAY, "dtype": ELEMENT_TYPE, "dimension": I64}, lowering=_lower_iota,
      doc="0, 1, 2, ... along `dimension`, the same along the other axes (StableHLO's iota)")


defzero("constant")
defzero("splat")
defzero("iota")
for _name in ("constant", "splat", "iota"):
    defbatch_nullary(_name)
