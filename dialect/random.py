"""Counter-based random numbers from an explicit integer key: the same key and shape give the
same numbers on every backend. Differentiation treats them as constants.

bits[i] = hash32(i * 0x9E3779B9 + hash32(key_lo ^ hash32(key_hi + 0x9E3779B9))), with the
`lowbias32` integer hash; for a fixed key, distinct counters i give distinct bits."""

import numpy as np

from .ad import defzero
from .batching import defbatch_lane_by_lane
from .core import ELEMENT_TYPE, F64, I64_ARRAY, defop, require
from tgraph.support.dtypes import TensorSpec, to_numpy

GOLDEN = np.uint32(0x9E3779B9)
UNIFORM_BITS = 24  # uniform values are multiples of 2^-24 in [0, 1)


def hash32(x):
    x = np.asarray(x, np.uint32)
    with np.errstate(over="ignore"):  # multiplication modulo 2^32 is the point
        x = x ^ (x >> np.uint32(16))
        x = x * np.uint32(0x7FEB352D)
        x = x ^ (x >> np.uint32(15))
        x = x * np.uint32(0x846CA68B)
        return x ^ (x >> np.uint32(16))


def random_bits(key, shape):
    k = int(np.asarray(key).astype(np.int64)) & 0xFFFFFFFFFFFFFFFF
    lo, hi = np.uint32(k & 0xFFFFFFFF), np.uint32(k >> 32)
    with np.errstate(over="ignore"):
        seed = hash32(lo ^ hash32(hi + GOLDEN))
        counter = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.uint32)
        return hash32(counter * GOLDEN + seed).reshape(shape)


def _check_key(key):
    require(key.rank == 0 and key.dtype in ("i32", "i64"), f"key must be a scalar i32 or i64 tensor, got {key}")


def _infer_uniform(specs, shape, dtype):
    _check_key(specs[0])
    require(dtype in ("f16", "bf16", "f32", "f64"), f"dtype must be floating-point, got {dtype}")
    return TensorSpec(shape, dtype)


def _uniform(key, shape, dtype):
    bits = random_bits(key, shape) >> np.uint32(32 - UNIFORM_BITS)
    # Round down, so values stay below 1 in narrow types too.
    values = bits.astype(np.float64) * 2.0 ** -UNIFORM_BITS
    narrow = values.astype(to_numpy(dtype))
    too_big = narrow.astype(np.float64) > values
    return np.where(too_big, np.nextafter(narrow, np.zeros((), narrow.dtype)), narrow)


defop("random_uniform", "random", ("key",), _infer_uniform, _uniform,
      attrs={"shape": I64_ARRAY, "dtype": ELEMENT_TYPE},
      doc="uniform in [0, 1), from the scalar integer key")


def _infer_bernoulli(specs, p, shape):
    _check_key(specs[0])
    require(0.0 <= p <= 1.0, f"probability {p} must be in [0, 1]")
    return TensorSpec(shape, "i1")


def bernoulli_threshold(p):
    return int(round(p * 2 ** UNIFORM_BITS))


defop("bernoulli", "random", ("key",), _infer_bernoulli,
      lambda key, p, shape: (random_bits(key, shape) >> np.uint32(32 - UNIFORM_BITS)) < bernoulli_threshold(p),
      attrs={"p": F64, "shape": I64_ARRAY},
      doc="i1 mask, true with probability p (compared in integers: exact on every backend)")


defzero("random_uniform")
defzero("bernoulli")
# A batch of keys: one draw per key (no vectorized form of the counter hash over keys).
defbatch_lane_by_lane("random_uniform")
defbatch_lane_by_lane("bernoulli")
