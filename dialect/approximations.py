"""Vectorizable arith code for math functions: `ArithEmitter`, which emits arith ops on one float
type as scalars or fixed-size vectors, and the expansions of the math ops LLVM would leave to libm
(exp, expm1, log, log1p, tanh, sin, cos, powf). tg-approximate-math applies them, and an op's
record may add its own (`approximations`) written with the same emitter.

f32 results are within 1.6 ulp of the exact result for every finite argument (per function:
test_approximate_math.py); NaN, infinities, signed zeros and subnormals behave as numpy's. sin/cos
reduce the argument in f64: by Cody-Waite when every lane has |x| < 2^28, else by Payne-Hanek
(exact products of |x| with 24-bit pieces of 2/pi, the pieces picked by |x|'s binade with selects),
so up to 3.4e38 and next to multiples of pi/2 alike; the choice is one branch per vector (scf.if).
powf evaluates y * log2|x| in f64 so that large results keep their accuracy."""

import math as pymath

from tgraph.support.mlir import arith, ir, scf

LOG2E = 1.4426950408889634
# Cody-Waite: ln2 = LN2_HI + LN2_LO, with n * LN2_HI exact for |n| < 2^15 (Cephes).
LN2_HI, LN2_LO = 0.693359375, -2.12194440e-4
# Payne-Hanek: the bits of 2/pi after the binary point, 9 pieces of 24 (fdlibm's table for
# __kernel_rem_pio2; test_approximate_math.py recomputes them), and piece j as an f64 of 24 bits.
TWO_OVER_PI_BITS = 0xA2F9836E4E441529FC2757D1F534DDC0DB6295993C439041FE5163
PIECE_BITS = 24
TWO_OVER_PI_PIECES = tuple(((TWO_OVER_PI_BITS >> (PIECE_BITS * (8 - j))) & 0xFFFFFF) * 2.0 ** (-PIECE_BITS * (j + 1))
                           for j in range(9))
WINDOW_PIECES = 5  # the pieces of 2/pi a reduction uses: 120 bits, from the first that counts mod 4
# Below this |x| (in every lane of a vector) the cheaper Cody-Waite reduction is used instead:
# pi/2 = PIO2_HI + PIO2_LO to 2^-77, q * PIO2_HI exact for q < 2^29; it was measured within 1.58 ulp
# for every f32 below 8.4e8. The branch is taken per vector, so ordinary inputs skip Payne-Hanek.
CODY_WAITE_LIMIT = 2.0 ** 28
PIO2_HI, PIO2_LO = 1.5707963705062866, -4.3711390001862426e-08

# Cephes expf: exp(r) = 1 + r + r^2 P(r) on |r| <= ln2/2.
EXP_P = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1)
# Cephes logf: log(1 + f) = f - f^2/2 + f^3 P(f) on sqrt(1/2) - 1 <= f < sqrt(2) - 1.
LOG_P = (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
         -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)
# Cephes tanhf: tanh(x) = x + x^3 P(x^2) on |x| < 0.625.
TANH_P = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1)
# Cephes sinf, cosf on |r| <= pi/4: sin r = r + r^3 S(r^2), cos r = 1 - r^2/2 + r^4 C(r^2).
SIN_P = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
COS_P = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)
# f64, for powf: log(m) = 2 atanh(s) = 2s (1 + s^2/3 + s^4/5 + ...), s = (m-1)/(m+1), |s| < 0.172,
# and 2^f = sum (f ln2)^k / k! on |f| <= 1/2: both series truncated below 2^-37.
ATANH_SERIES = tuple(1.0 / k for k in range(13, 0, -2))
EXP2_SERIES = tuple(pymath.log(2) ** k / pymath.factorial(k) for k in range(9, -1, -1))


class ArithEmitter:
    """Emits arith ops on one float type, as a scalar or a vector of a fixed shape, and on the
    signless integers of the same width and shape; Python numbers become splat constants."""

    def __init__(self, float_type, shape=None):
        self.shape = shape
        self.element = float_type
        self.width = ir.FloatType(float_type).width
        self.mantissa_bits = {32: 23, 64: 52}[self.width]
        self.int_element = ir.IntegerType.get_signless(self.width)
        self.float_type = self._shaped(float_type)
        self.int_type = self._shaped(self.int_element)
        self.bool_type = self._shaped(ir.IntegerType.get_signless(1))
        # A multiply and an add may fuse into an FMA: it is never less accurate here (every exact
        # step, as Cody-Waite's n * LN2_HI, stays exact) and makes the code about 25% faster.
        self.contract = ir.Attribute.parse("#arith.fastmath<contract>")

    def _shaped(self, element):
        return element if self.shape is None else ir.VectorType.get(self.shape, element)

    def like(self, float_type):
        return ArithEmitter(float_type, self.shape)

    def _splat(self, shaped, attr):
        return arith.constant(shaped, attr if self.shape is None else ir.DenseElementsAttr.get_splat(shaped, attr))

    def f(self, value):
        if isinstance(value, ir.Value):
            return value
        return self._splat(self.float_type, ir.FloatAttr.get(self.element, float(value)))

    def i(self, value):
        if isinstance(value, ir.Value):
            return value
        if value >= 1 << (self.width - 1):  # a bit pattern: as the signed integer of the same bits
            value -= 1 << self.width
        return self._splat(self.int_type, ir.IntegerAttr.get(self.int_element, value))

    # float arithmetic; operands are Values or Python numbers
    def add(self, a, b): return arith.addf(self.f(a), self.f(b), fastmath=self.contract)
    def sub(self, a, b): return arith.subf(self.f(a), self.f(b), fastmath=self.contract)
    def mul(self, a, b): return arith.mulf(self.f(a), self.f(b), fastmath=self.contract)
    def div(self, a, b): return arith.divf(self.f(a), self.f(b))
    def neg(self, a): return arith.negf(a)

    def cmp(self, predicate, a, b):
        """arith.cmpf; ordered predicates (olt, oeq, ...) are false on NaN, unordered ones (ult, une) true."""
        return arith.cmpf(getattr(arith.CmpFPredicate, predicate.upper()), self.f(a), self.f(b))

    def select(self, condition, a, b):
        return arith.select(condition, self.f(a), self.f(b))

    def both(self, a, b): return arith.andi(a, b)
    def either(self, a, b): return arith.ori(a, b)

    def negation(self, condition):
        true = ir.IntegerAttr.get(ir.IntegerType.get_signless(1), 1)
        return arith.xori(condition, self._splat(self.bool_type, true))

    def polynomial(self, x, coefficients):
        """Horner's scheme, highest degree first."""
        acc = self.f(coefficients[0])
        for c in coefficients[1:]:
            acc = self.add(self.mul(acc, x), c)
        return acc

    # integers and float bits
    def bits(self, x): return arith.bitcast(self.int_type, x)
    def from_bits(self, n): return arith.bitcast(self.float_type, n)
    def iadd(self, a, b): return arith.addi(self.i(a), self.i(b))
    def isub(self, a, b): return arith.subi(self.i(a), self.i(b))
    def iand(self, a, b): return arith.andi(self.i(a), self.i(b))
    def ior(self, a, b): return arith.ori(self.i(a), self.i(b))
    def ixor(self, a, b): return arith.xori(self.i(a), self.i(b))
    def shl(self, a, b): return arith.shli(self.i(a), self.i(b))
    def shr(self, a, b): return arith.shrsi(self.i(a), self.i(b))
    def to_float(self, n): return arith.sitofp(self.float_type, n)

    def icmp(self, predicate, a, b):
        return arith.cmpi(getattr(arith.CmpIPredicate, predicate), self.i(a), self.i(b))

    # building blocks
    @property
    def sign_bit(self):
        return 1 << (self.width - 1)

    def abs(self, x):
        return self.from_bits(self.iand(self.bits(x), self.sign_bit - 1))

    def xor_sign(self, x, sign_source):
        """x with its sign flipped where sign_source is negative (copysign when x >= 0)."""
        return self.from_bits(self.ixor(self.bits(x), self.iand(self.bits(sign_source), self.sign_bit)))

    def clamp(self, x, lo, hi):
        """min(max(x, lo), hi) that keeps NaN."""
        lo, hi = self.f(lo), self.f(hi)
        return self.select(self.cmp("ogt", x, hi), hi, self.select(self.cmp("olt", x, lo), lo, x))

    def round_to_integer(self, x):
        """(x rounded to the nearest integer, as a float and as an integer), for |x| < 2^(mantissa bits - 1):
        adding 1.5 * 2^(mantissa bits) leaves the integer in the low mantissa bits. Never poison (NaN
        gives an arbitrary integer), unlike fptosi."""
        magic = 1.5 * 2.0 ** self.mantissa_bits
        shifted = self.add(x, magic)
        return self.sub(shifted, magic), self.isub(self.bits(shifted), self.bits(self.f(magic)))

    def exp2_integer(self, n):
        """2^n for an integer n in the normal range, built from its exponent bits."""
        bias = (1 << (self.width - self.mantissa_bits - 2)) - 1
        return self.from_bits(self.shl(self.iadd(n, bias), self.mantissa_bits))

    def scale(self, x, n):
        """x * 2^n in two exact steps, so that 2^n may over- or underflow while the result does not."""
        half = self.shr(n, 1)
        return self.mul(self.mul(x, self.exp2_integer(half)), self.exp2_integer(self.isub(n, half)))


# ----------------------------------------------------------------------------- the expansions (on f32)
def _exp_reduced(b, x):
    """Cephes expf: x = n ln2 + r with |r| <= ln2/2; returns (n, expm1(r))."""
    n_float, n = b.round_to_integer(b.mul(x, LOG2E))
    r = b.sub(b.sub(x, b.mul(n_float, LN2_HI)), b.mul(n_float, LN2_LO))
    return n, b.add(b.mul(b.mul(r, r), b.polynomial(r, EXP_P)), r)


def exp(b, x):
    """Cephes expf, scaled by 2^n in two steps: subnormal results round once. Below -104 exp(x)
    rounds to 0 and above 88.75 it overflows: clamping there keeps n in [-150, 128]."""
    n, expm1_r = _exp_reduced(b, b.clamp(x, -104.0, 88.75))
    return b.scale(b.add(expm1_r, 1.0), n)


def expm1(b, x):
    """2^n expm1(r) + (2^n - 1): both terms exact, one rounding (fdlibm); where 2^n overflows, exp."""
    n, expm1_r = _exp_reduced(b, b.clamp(x, -18.0, 88.75))  # below -18 the result rounds to -1
    power = b.scale(1.0, n)
    moderate = b.add(b.sub(power, 1.0), b.mul(power, expm1_r))
    result = b.select(b.icmp("sgt", n, 127), b.scale(b.add(expm1_r, 1.0), n), moderate)
    return b.select(b.cmp("oeq", x, 0.0), x, result)  # keeps -0


def log(b, x):
    """Cephes logf: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log x = e ln2 + log(1 + (m - 1))."""
    subnormal = b.cmp("olt", x, 2.0 ** -126)
    bits = b.bits(b.select(subnormal, b.mul(x, 2.0 ** 23), x))
    e = b.isub(b.shr(bits, 23), b.select(subnormal, b.i(126 + 23), b.i(126)))
    m = b.from_bits(b.ior(b.iand(bits, 0x007FFFFF), 0x3F000000))  # in [1/2, 1)
    low = b.cmp("olt", m, pymath.sqrt(0.5))
    e = b.select(low, b.isub(e, 1), e)
    f = b.sub(b.select(low, b.add(m, m), m), 1.0)
    e_float = b.to_float(e)
    z = b.mul(f, f)
    y = b.mul(b.mul(f, z), b.polynomial(f, LOG_P))
    y = b.sub(b.add(y, b.mul(e_float, LN2_LO)), b.mul(z, 0.5))
    result = b.add(b.add(f, y), b.mul(e_float, LN2_HI))
    result = b.select(b.cmp("oeq", x, pymath.inf), pymath.inf, result)
    result = b.select(b.cmp("oeq", x, 0.0), -pymath.inf, result)
    return b.select(b.cmp("ult", x, 0.0), pymath.nan, result)  # negative or NaN


def log1p(b, x):
    """log(w) + (x - (w - 1)) / w with w = 1 + x: the second term corrects the rounding of w (fdlibm)."""
    w = b.add(x, 1.0)
    w_minus_one = b.sub(w, 1.0)
    log_w = log(b, w)
    result = b.add(log_w, b.div(b.sub(x, w_minus_one), w))
    result = b.select(b.cmp("oeq", w_minus_one, 0.0), x, result)  # tiny x, and keeps -0
    # x = -1 and x = inf: the correction is 0/0 or inf/inf, and log(w) is the result.
    return b.select(b.either(b.cmp("oeq", w, 0.0), b.cmp("oeq", x, pymath.inf)), log_w, result)


def tanh(b, x):
    """Cephes tanhf: x + x^3 P(x^2) for |x| < 0.625, else 1 - 2 / (exp(2|x|) + 1), with the sign of x.
    |x| is clamped to 10, where tanh is 1 in f32, so exp never overflows."""
    ax = b.abs(x)
    z = b.mul(ax, ax)
    small = b.add(b.mul(b.mul(ax, z), b.polynomial(z, TANH_P)), ax)
    n, expm1_r = _exp_reduced(b, b.mul(b.select(b.cmp("ogt", ax, 10.0), 10.0, ax), 2.0))
    e = b.mul(b.add(expm1_r, 1.0), b.exp2_integer(n))  # 2^n <= 2^29: one step
    large = b.sub(1.0, b.div(2.0, b.add(e, 1.0)))
    return b.xor_sign(b.select(b.cmp("olt", ax, 0.625), small, large), x)


def _round_to_multiple(d, v, unit):
    """v rounded to the nearest multiple of unit (a power of 2) for |v| < 2^51 unit, exactly: adding
    1.5 * 2^52 unit leaves no bits below unit."""
    magic = 1.5 * 2.0 ** 52 * unit
    return d.sub(d.add(v, magic), magic)


def _reduce_quadrants(b, ax):
    """|x| 2/pi for a non-negative f32 as (n mod 4, an integer; f, an f64) with |x| 2/pi = n + f mod 4,
    |f| < 1/2 + 2^-22, and f to 2^-52 relative plus 2^-70 absolute: Payne-Hanek.

    ax = m 2^k, m an integer below 2^24, k <= 104. The product of ax with a 24-bit piece of 2/pi is
    exact in f64, and a multiple of 4 once its lowest bit is 2^2 or above: those pieces are skipped,
    the next three used and the rest of a 120-bit window as one f64 (the tail past it is below
    2^-70). The window is chosen by a chain of selects on ax, so vectors do it lane by lane. The two
    leading products are reduced mod 4, and the next two split at 2^-46, all exactly; the high parts
    then sum exactly (their bits are 2^-50 or above once ax >= 1/8; below, n = 0), so no
    cancellation costs accuracy: the closest an f32 comes to a multiple of pi/2 is 16367173 2^72,
    with f = 2^-29.9."""
    d = b.like(ir.F64Type.get())

    def window(skipped):
        pieces = TWO_OVER_PI_PIECES[skipped:skipped + WINDOW_PIECES]
        return pieces[:3] + (sum(pieces[3:]),)

    pieces = list(window(0))
    for skipped in range(1, len(TWO_OVER_PI_PIECES) - WINDOW_PIECES + 1):
        # ax >= 2^(24 skipped + 25): k >= 24 skipped + 2, so piece skipped - 1 times ax is 0 mod 4.
        past = b.cmp("oge", ax, 2.0 ** (PIECE_BITS * skipped + 25))
        pieces = [d.select(past, piece, current) for piece, current in zip(window(skipped), pieces)]
    # An FMA formed from any of these products leaves the result as it is: the first three are
    # exact, and the last is below 2^-23 with an error below 2^-76.
    wide = arith.extf(d.float_type, ax)
    products = [d.mul(wide, piece) for piece in pieces]
    # below 2^49 and 2^25: dropping multiples of 4 leaves them in [-2, 2]
    leading = [d.sub(p, _round_to_multiple(d, p, 4.0)) for p in products[:2]]
    # the second (for ax < 2^25) and the third (below 2) have bits below 2^-46: split off to low
    middle_high = [_round_to_multiple(d, p, 2.0 ** -46) for p in (leading[1], products[2])]
    high = d.add(d.add(leading[0], middle_high[0]), middle_high[1])
    low = d.add(d.add(d.sub(leading[1], middle_high[0]), d.sub(products[2], middle_high[1])), products[3])
    n_float, n = d.round_to_integer(high)
    return n, d.add(d.sub(high, n_float), low)


def _reduce_cody_waite(b, ax):
    """|x| = n pi/2 + r for |x| < CODY_WAITE_LIMIT: (n, an integer; r, an f64)."""
    d = b.like(ir.F64Type.get())
    wide = arith.extf(d.float_type, ax)
    n_float, n = d.round_to_integer(d.mul(wide, 2.0 / pymath.pi))
    return n, d.sub(d.sub(wide, d.mul(n_float, PIO2_HI)), d.mul(n_float, PIO2_LO))


def _reduce_payne_hanek(b, ax):
    n, f = _reduce_quadrants(b, ax)
    return n, b.like(ir.F64Type.get()).mul(f, pymath.pi / 2)


def _any(b, condition):
    """One i1: whether `condition` holds anywhere (in any lane of a vector)."""
    if b.shape is None:
        return condition
    return ir.Operation.create("llvm.intr.vector.reduce.or", results=[ir.IntegerType.get_signless(1)],
                               operands=[condition]).result


def _reduce(b, ax):
    """(n, r) with |x| = n pi/2 + r: Payne-Hanek when some lane needs it, else Cody-Waite (an scf.if;
    the pipeline lowers it to a branch after this pass)."""
    d = b.like(ir.F64Type.get())
    branch = scf.IfOp(_any(b, b.negation(b.cmp("olt", ax, CODY_WAITE_LIMIT))), [d.int_type, d.float_type],
                      has_else=True)
    for block, reduce in ((branch.then_block, _reduce_payne_hanek), (branch.else_block, _reduce_cody_waite)):
        with ir.InsertionPoint(block):
            scf.YieldOp(list(reduce(b, ax)))
    return branch.results[0], branch.results[1]


def _sin_or_cos(b, x, quadrant_offset):
    """sin (offset 0) or cos (offset 1) of |x|: |x| = n pi/2 + r, reduced in f64 (Cody-Waite, or
    Payne-Hanek for large |x|), then Cephes' polynomials on the f32 r, chosen and signed by n."""
    d = b.like(ir.F64Type.get())
    n, r_wide = _reduce(b, b.abs(x))
    r = arith.truncf(b.float_type, r_wide)
    z = b.mul(r, r)
    sin_r = b.add(b.mul(b.mul(r, z), b.polynomial(z, SIN_P)), r)
    cos_r = b.add(b.sub(1.0, b.mul(z, 0.5)), b.mul(b.mul(z, z), b.polynomial(z, COS_P)))
    quadrant = d.iadd(n, quadrant_offset)
    value = b.select(d.icmp("ne", d.iand(quadrant, 1), 0), cos_r, sin_r)
    return b.select(d.icmp("ne", d.iand(quadrant, 2), 0), b.neg(value), value)


def sin(b, x):
    return b.xor_sign(_sin_or_cos(b, x, 0), x)  # sin is odd; keeps sin(-0) = -0


def cos(b, x):
    return _sin_or_cos(b, x, 1)


def _log2_f64(d, x):
    """log2 of a positive f64 (an f32 widened: never subnormal), to ~2^-37 relative; 0 -> -inf, inf -> inf."""
    bits = d.bits(x)
    e = d.isub(d.shr(bits, 52), 1022)
    m = d.from_bits(d.ior(d.iand(bits, (1 << 52) - 1), 0x3FE0000000000000))  # in [1/2, 1)
    low = d.cmp("olt", m, pymath.sqrt(0.5))
    e = d.select(low, d.isub(e, 1), e)
    m = d.select(low, d.add(m, m), m)
    s = d.div(d.sub(m, 1.0), d.add(m, 1.0))
    log_m = d.mul(d.mul(s, 2.0), d.polynomial(d.mul(s, s), ATANH_SERIES))
    result = d.add(d.to_float(e), d.mul(log_m, LOG2E))
    result = d.select(d.cmp("oeq", x, pymath.inf), pymath.inf, result)
    return d.select(d.cmp("oeq", x, 0.0), -pymath.inf, result)


def _exp2_f64(d, w):
    """2^w in f64 to ~2^-37 relative: w = n + f, |f| <= 1/2. |w| is clamped to 200 (far past f32's range)."""
    w = d.clamp(w, -200.0, 200.0)
    n_float, n = d.round_to_integer(w)
    f = d.sub(w, n_float)
    return d.mul(d.polynomial(f, EXP2_SERIES), d.exp2_integer(n))


def powf(b, x, y):
    """exp2(y log2|x|) in f64, then numpy's (C99's) special cases: a negative x gives NaN unless y is
    an integer, and the sign of x for odd y; x^0 = 1^y = 1 even for NaN; 0^y, inf^y, x^+-inf by limits."""
    d = b.like(ir.F64Type.get())
    log2_ax = _log2_f64(d, arith.extf(d.float_type, b.abs(x)))
    magnitude = arith.truncf(b.float_type, _exp2_f64(d, d.mul(arith.extf(d.float_type, y), log2_ax)))
    magnitude = b.select(b.cmp("oeq", b.abs(x), 1.0), 1.0, magnitude)  # else inf * 0 for y = +-inf

    def is_integer(v):  # |v| + 2^23 - 2^23 rounds |v| < 2^23 to an integer; larger floats all are integers
        av = b.abs(v)
        rounded = b.sub(b.add(av, 2.0 ** 23), 2.0 ** 23)
        return b.either(b.cmp("oge", av, 2.0 ** 23), b.cmp("oeq", rounded, av))

    y_integer = is_integer(y)
    y_odd = b.both(y_integer, b.negation(is_integer(b.mul(y, 0.5))))
    x_negative = b.icmp("slt", b.bits(x), 0)  # the sign bit: -0 and -inf included
    result = b.select(b.both(x_negative, y_odd), b.neg(magnitude), magnitude)
    finite_negative = b.both(b.cmp("olt", x, 0.0), b.cmp("one", x, -pymath.inf))
    result = b.select(b.both(finite_negative, b.negation(y_integer)), pymath.nan, result)
    result = b.select(b.cmp("uno", x, y), pymath.nan, result)
    return b.select(b.either(b.cmp("oeq", y, 0.0), b.cmp("oeq", x, 1.0)), 1.0, result)


MATH_EXPANSIONS = {  # upstream math op -> expansion, for the ops many tg ops' bodies use
    "math.exp": exp,
    "math.expm1": expm1,
    "math.log": log,
    "math.log1p": log1p,
    "math.tanh": tanh,
    "math.sin": sin,
    "math.cos": cos,
    "math.powf": powf,
}
