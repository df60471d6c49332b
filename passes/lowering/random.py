"""Counter-based random numbers -> a parallel linalg.generic that hashes each element's linear
index with lowbias32 in i32 arithmetic (wrapping, as the reference's uint32), bit-exact with it."""

from tgraph.dialect import element_type
from tgraph.dialect.random import GOLDEN, UNIFORM_BITS, bernoulli_threshold
from tgraph.support.mlir import arith, ir, tensor

from .builders import LOW_PRECISION, empty, generic, identity_map, loop_index, scalar, spec


def _u32(value):
    return scalar(int(value), "i32")  # the bit pattern: 0x9E3779B9 wraps to a negative i32


def emit_hash32(x):
    """lowbias32 on an i32 scalar."""
    for shift, multiplier in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        x = arith.muli(arith.xori(x, arith.shrui(x, _u32(shift))), _u32(multiplier))
    return arith.xori(x, arith.shrui(x, _u32(16)))


def _seed(key):
    """hash32(key_lo ^ hash32(key_hi + golden)) of the scalar key tensor (i32 keys sign-extend)."""
    i32, i64 = ir.IntegerType.get_signless(32), ir.IntegerType.get_signless(64)
    k = tensor.extract(key, [])
    if spec(key).dtype != "i64":
        k = arith.extsi(i64, k)
    lo, hi = arith.trunci(i32, k), arith.trunci(i32, arith.shrui(k, scalar(32, "i64")))
    return emit_hash32(arith.xori(lo, emit_hash32(arith.addi(hi, _u32(GOLDEN)))))


def _linear_index(shape):
    """The row-major position of the current element, as i32 (the reference's uint32 counter)."""
    index = ir.IndexType.get()
    position = arith.constant(index, 0) if not shape else loop_index(0)
    for d in range(1, len(shape)):
        position = arith.addi(arith.muli(position, arith.constant(index, shape[d])), loop_index(d))
    return arith.index_cast(ir.IntegerType.get_signless(32), position)  # wraps modulo 2^32, as the reference


def _random_generic(key, out, from_bits):
    """result[i...] = from_bits(top UNIFORM_BITS bits of the hash of i's linear index)."""
    seed = _seed(key)

    def body(_):
        bits = emit_hash32(arith.addi(arith.muli(_linear_index(out.shape), _u32(GOLDEN)), seed))
        return from_bits(arith.shrui(bits, _u32(32 - UNIFORM_BITS)))

    return generic([], [], empty(out.shape, out.dtype), identity_map(out.rank), ["parallel"] * out.rank, body)


def _round_down(value, dtype):
    """value (f32, a multiple of 2^-24 in [0, 1)) in `dtype`, rounded toward zero as the reference:
    round to nearest, then step one ulp down if that went up."""
    narrow = arith.truncf(element_type(dtype), value)
    went_up = arith.cmpf(arith.CmpFPredicate.OGT, arith.extf(element_type("f32"), narrow), value)
    i16 = ir.IntegerType.get_signless(16)
    below = arith.bitcast(element_type(dtype), arith.subi(arith.bitcast(i16, narrow), arith.constant(i16, 1)))
    return arith.select(went_up, below, narrow)


def _uniform(out, key, shape, dtype):
    def from_bits(bits):
        # bits < 2^24: exact in f32 (and f64); times 2^-24 is exact too.
        wide = "f64" if dtype == "f64" else "f32"
        value = arith.mulf(arith.uitofp(element_type(wide), bits), scalar(2.0 ** -UNIFORM_BITS, wide))
        return _round_down(value, dtype) if dtype in LOW_PRECISION else value

    return _random_generic(key, out, from_bits)


def _bernoulli(out, key, p, shape):
    threshold = bernoulli_threshold(p)
    return _random_generic(key, out, lambda bits: arith.cmpi(arith.CmpIPredicate.ult, bits, _u32(threshold)))


RULES = {"random_uniform": _uniform, "bernoulli": _bernoulli}
