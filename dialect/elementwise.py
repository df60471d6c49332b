"""Elementwise ops: unary math, binary arithmetic on equal types, compare, select."""

import math as pymath

import numpy as np

from .approximations import exp as exp_f32
from .ad import convention, defelementwise, defjvp, deflinear, defvjp, defzero, dtype_of
from .batching import defbatch_elementwise
from .core import OPS, STR, defop, require, same_as_first
from tgraph.support.dtypes import TensorSpec
from tgraph.support.mlir import arith, ir, math


def _sigmoid(x):
    # Split by sign so exp never overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# ----------------------------------------------------------------------------- scalar bodies
# What each op computes on one element, in arith/math (tg-to-linalg wraps a body in a parallel
# linalg.generic; f16 and bf16 arrive widened to f32).
def const_like(x, value):
    """An arith.constant of `value` with x's (scalar) type."""
    t = x.type
    attr = ir.FloatAttr.get(t, float(value)) if isinstance(t, ir.FloatType) else ir.IntegerAttr.get(t, int(value))
    return arith.constant(t, attr)


def _sigmoid_body(x):
    # Split by sign so exp never overflows (as the reference does).
    e = math.exp(arith.negf(math.absf(x)))
    one = const_like(x, 1.0)
    denominator = arith.addf(one, e)
    positive = arith.cmpf(arith.CmpFPredicate.OGE, x, const_like(x, 0.0))
    return arith.select(positive, arith.divf(one, denominator), arith.divf(e, denominator))


def _log1p_body(u):
    """log(1 + u) without the cancellation of the naive form: log(w) * u / (w - 1) with w = 1 + u
    is exact to a few ulps (Goldberg); LLVM's own lowering of math.log1p is the naive form."""
    w = arith.addf(const_like(u, 1.0), u)
    d = arith.subf(w, const_like(u, 1.0))
    tiny = arith.cmpf(arith.CmpFPredicate.OEQ, d, const_like(u, 0.0))
    infinite = arith.cmpf(arith.CmpFPredicate.OEQ, w, const_like(u, float("inf")))  # else inf / inf
    return arith.select(arith.ori(tiny, infinite), u, arith.mulf(math.log(w), arith.divf(u, d)))


def _expm1_body(x):
    """e^x - 1: math.expm1 for f32 (tg-approximate-math expands it); for f64, where LLVM's lowering
    of math.expm1 is the naive exp(x) - 1, Kahan's (u - 1) x / log u with u = e^x, exact to a few
    ulps; u = 1 gives x, u = 0 gives -1 and u = inf gives inf."""
    if not isinstance(x.type, ir.F64Type):
        return math.expm1(x)
    u = math.exp(x)
    one = const_like(x, 1.0)
    um1 = arith.subf(u, one)
    kahan = arith.mulf(um1, arith.divf(x, math.log(u)))
    is_one = arith.cmpf(arith.CmpFPredicate.OEQ, u, one)
    # u = 0 (um1 = -1) and u = inf are their own answers; u = 1 is x's
    exact = arith.ori(arith.cmpf(arith.CmpFPredicate.OEQ, um1, const_like(x, -1.0)),
                      arith.cmpf(arith.CmpFPredicate.OEQ, u, const_like(x, float("inf"))))
    return arith.select(is_one, x, arith.select(exact, um1, kahan))


def _softplus_body(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, exact at +-inf."""
    return arith.addf(arith.maximumf(x, const_like(x, 0.0)), _log1p_body(math.exp(arith.negf(math.absf(x)))))


# erf on f32 (f16, bf16): LLVM has no erf intrinsic, so tg-approximate-math expands math.erf with
# this (f64 erf becomes a libm call). Fitted (least squares on Chebyshev nodes) to the exact erf:
ERF_SMALL = (-9.728406622211161e-06, 0.0001128817411106108, -0.0008487267640007449, 0.005221261489485339,
             -0.026865517442435156, 0.11283784111812713, -0.3761263859043038, 1.1283791670822856)  # erf(x)/x in x^2 on [0, 1]
ERF_LARGE = (-6.582858080305097e-08, 3.0952046781253933e-06, -6.006879608032703e-05, 0.0006733375505703482,
             -0.005021044759267782, 0.026999497114642307, -0.11090741702604077, -0.6310888680183772,
             -1.1306044693934858, 0.00040050050127395966)  # log(erfc(t)) on [1, 4]


def _erf_f32(b, x):
    """Within 1.1 ulp: |x| < 1: |x| P(x^2) in f64, rounded once; else 1 - e^Q(|x|) (1 in f32 from
    |x| = 3.92 on, so Q's argument is clamped to 4); then x's sign. NaN stays NaN."""
    d = b.like(ir.F64Type.get())
    ax = b.abs(x)
    wide = arith.extf(d.float_type, ax)
    small = arith.truncf(b.float_type, d.mul(wide, d.polynomial(d.mul(wide, wide), ERF_SMALL)))
    large = b.sub(1.0, exp_f32(b, b.polynomial(b.clamp(ax, 1.0, 4.0), ERF_LARGE)))
    value = b.select(b.cmp("olt", ax, 1.0), small, large)
    return b.xor_sign(b.select(b.cmp("uno", x, x), x, value), x)


# ----------------------------------------------------------------------------- definitions
# name -> (public name, reference, float body, integer body (None: floats only), doc)
UNARY = {
    "neg": ("negative", np.negative, arith.negf, lambda x: arith.subi(const_like(x, 0), x), "-x"),
    "abs": ("abs", np.abs, math.absf, math.absi, "|x|"),
    "exp": ("exp", np.exp, math.exp, None, "e^x"),
    "log": ("log", np.log, math.log, None, "natural logarithm; -inf at 0, NaN below"),
    "sqrt": ("sqrt", np.sqrt, math.sqrt, None, "square root"),
    "rsqrt": ("rsqrt", lambda x: 1 / np.sqrt(x), lambda x: arith.divf(const_like(x, 1.0), math.sqrt(x)), None,
              "1 / sqrt(x)"),  # as the reference: 1 / sqrt(x)
    "tanh": ("tanh", np.tanh, math.tanh, None, "hyperbolic tangent"),
    "sigmoid": ("sigmoid", _sigmoid, _sigmoid_body, None, "1 / (1 + e^-x)"),
    # maximumf propagates NaN, as np.maximum
    "relu": ("relu", lambda x: np.maximum(x, np.zeros((), x.dtype)), lambda x: arith.maximumf(x, const_like(x, 0.0)),
             lambda x: arith.maxsi(x, const_like(x, 0)), "max(x, 0)"),
    "sin": ("sin", np.sin, math.sin, None, "sine"),
    "cos": ("cos", np.cos, math.cos, None, "cosine"),
    "softplus": ("softplus", lambda x: np.logaddexp(np.zeros((), x.dtype), x), _softplus_body, None,
                 "log(1 + e^x), computed stably"),
    "log1p": ("log1p", np.log1p, _log1p_body, None, "log(1 + x), accurate for small x"),
    "expm1": ("expm1", np.expm1, _expm1_body, None, "e^x - 1, accurate for small x"),
}
for _name, (_public, _fn, _float, _int, _doc) in UNARY.items():
    defop(_name, "elementwise", ("x",), same_as_first(ints=_int is not None), _fn, doc=_doc,
          float_body=_float, int_body=_int, foldable=True, public=_public)
defop("erf", "elementwise", ("x",), same_as_first(ints=False), np.vectorize(pymath.erf, otypes=[np.float64]),
      doc="the error function, 2/sqrt(pi) times the integral of e^-t^2 from 0 to x", float_body=math.erf,
      approximations={"math.erf": _erf_f32}, foldable=True, public="erf")

# NaN-propagating maximumf/minimumf, as np.maximum/minimum
BINARY = {
    "add": ("add", np.add, arith.addf, arith.addi, "x + y"),
    "sub": ("subtract", np.subtract, arith.subf, arith.subi, "x - y"),
    "mul": ("multiply", np.multiply, arith.mulf, arith.muli, "x * y"),
    "div": ("divide", np.divide, arith.divf, None, "x / y (IEEE: x/0 is ±inf or NaN)"),
    "pow": ("power", np.power, math.powf, None, "x ** y; NaN for a negative x and a non-integer y"),
    "maximum": ("maximum", np.maximum, arith.maximumf, arith.maxsi, "the larger of x and y; NaN if either is NaN"),
    "minimum": ("minimum", np.minimum, arith.minimumf, arith.minsi, "the smaller of x and y; NaN if either is NaN"),
}
for _name, (_public, _fn, _float, _int, _doc) in BINARY.items():
    defop(_name, "elementwise", ("lhs", "rhs"), same_as_first(ints=_int is not None), _fn, doc=_doc,
          float_body=_float, int_body=_int, foldable=True, public=_public)

COMPARE_DIRECTIONS = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                      "eq": np.equal, "ne": np.not_equal}


def _infer_compare(specs, direction):
    require(direction in COMPARE_DIRECTIONS,
            f"direction '{direction}' is not one of {', '.join(COMPARE_DIRECTIONS)}")
    lhs, rhs = specs
    require(lhs == rhs, f"operands must have the same type, got {lhs} and {rhs}")
    return TensorSpec(lhs.shape, "i1")


# NaN compares false except under `ne` (numpy's semantics: ordered predicates, unordered ne).
FLOAT_PREDICATES = {"lt": "OLT", "le": "OLE", "gt": "OGT", "ge": "OGE", "eq": "OEQ", "ne": "UNE"}
SIGNED_PREDICATES = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}
# i1 is unsigned: false < true (as numpy's bool), while signed i1 true is -1.
UNSIGNED_PREDICATES = {"lt": "ult", "le": "ule", "gt": "ugt", "ge": "uge", "eq": "eq", "ne": "ne"}


def _compare_float(a, b, direction):
    return arith.cmpf(getattr(arith.CmpFPredicate, FLOAT_PREDICATES[direction]), a, b)


def _compare_int(a, b, direction):
    table = UNSIGNED_PREDICATES if ir.IntegerType(a.type).width == 1 else SIGNED_PREDICATES
    return arith.cmpi(getattr(arith.CmpIPredicate, table[direction]), a, b)


defop("compare", "elementwise", ("lhs", "rhs"), _infer_compare,
      lambda x, y, direction: COMPARE_DIRECTIONS[direction](x, y), attrs={"direction": STR},
      doc="elementwise comparison to i1; `direction` is lt, le, gt, ge, eq or ne",
      float_body=_compare_float, int_body=_compare_int)


def _infer_select(specs):
    pred, on_true, on_false = specs
    require(pred.dtype == "i1", f"predicate must have element type i1, got {pred}")
    require(on_true == on_false, f"the two branches must have the same type, got {on_true} and {on_false}")
    require(pred.shape == on_true.shape, f"predicate shape {pred} must equal the branches' shape {on_true}")
    return on_true


defop("select", "elementwise", ("pred", "on_true", "on_false"), _infer_select, np.where,
      doc="on_true where pred, else on_false", float_body=arith.select, int_body=arith.select)


# ----------------------------------------------------------------------------- derivatives
def _sign(em, x):
    """-1, 0 or 1: abs'(0) = 0."""
    zero = em.zeros_like(x)
    pos = em.select(em.compare(x, zero, direction="gt"), em.full_like(x, 1.0), zero)
    return em.select(em.compare(x, zero, direction="lt"), em.full_like(x, -1.0), pos)


def _share(em, x, y, direction):
    """Weight of x in maximum/minimum: 1 where x wins, 0 where it loses, 1/2 on ties (as JAX)."""
    wins = em.cast(em.compare(x, y, direction=direction), dtype=dtype_of(x))
    ties = em.cast(em.compare(x, y, direction="eq"), dtype=dtype_of(x))
    return em.add(wins, em.scale(ties, 0.5))


deflinear("neg", lambda em, ct, x, result: em.neg(ct))
defelementwise("abs", lambda em, x, y: _sign(em, x))
defelementwise("exp", lambda em, x, y: y)
defelementwise("log", lambda em, x, y: em.div(em.full_like(x, 1.0), x))
defelementwise("sqrt", lambda em, x, y: em.div(em.full_like(x, 0.5), y))
defelementwise("rsqrt", lambda em, x, y: em.mul(em.full_like(x, -0.5), em.div(y, x)))
defelementwise("tanh", lambda em, x, y: em.sub(em.full_like(x, 1.0), em.mul(y, y)))
defelementwise("sigmoid", lambda em, x, y: em.mul(y, em.sub(em.full_like(x, 1.0), y)))
defelementwise("relu", lambda em, x, y: em.cast(em.compare(x, em.zeros_like(x), direction="gt"), dtype=dtype_of(x)))
defelementwise("sin", lambda em, x, y: em.cos(x))
defelementwise("cos", lambda em, x, y: em.neg(em.sin(x)))
defelementwise("softplus", lambda em, x, y: em.sigmoid(x))
defelementwise("log1p", lambda em, x, y: em.div(em.full_like(x, 1.0), em.add(em.full_like(x, 1.0), x)))
defelementwise("expm1", lambda em, x, y: em.add(y, em.full_like(x, 1.0)))
defelementwise("erf", lambda em, x, y: em.mul(em.full_like(x, 2 / pymath.sqrt(pymath.pi)), em.exp(em.neg(em.mul(x, x)))))

# add and sub pass a tangent or cotangent through, negated for sub's rhs: one rule serves both modes
# and a missing operand costs nothing (no add of zeros).
for _name, _rhs in (("add", lambda em, t, x, y, result: t), ("sub", lambda em, t, x, y, result: em.neg(t))):
    defjvp(_name, lambda em, t, x, y, result: t, _rhs)
    defvjp(_name, lambda em, t, x, y, result: t, _rhs)
defelementwise("mul", lambda em, x, y, z: y, lambda em, x, y, z: x)
OPS["mul"].linear_in = ((0,), (1,))
OPS["add"].linear_in = OPS["sub"].linear_in = ((0, 1),)
OPS["div"].linear_in = ((0,),)
defjvp("div", lambda em, t, x, y, result: em.div(t, y),
       lambda em, t, x, y, result: em.neg(em.mul(t, em.div(result, y))))
defvjp("div", lambda em, ct, x, y, result: em.div(ct, y),
       lambda em, ct, x, y, result: em.neg(em.mul(ct, em.div(result, y))))
defelementwise("pow", lambda em, x, y, z: em.mul(y, em.pow(x, em.sub(y, em.full_like(y, 1.0)))),
               lambda em, x, y, z: em.mul(em.log(x), z))
defelementwise("maximum", lambda em, x, y, z: _share(em, x, y, "gt"), lambda em, x, y, z: _share(em, y, x, "gt"))
defelementwise("minimum", lambda em, x, y, z: _share(em, x, y, "lt"), lambda em, x, y, z: _share(em, y, x, "lt"))
defzero("compare")


def _select_jvp(em, primals, tangents, result):
    pred, a, b = primals
    _, ta, tb = tangents
    if ta is None and tb is None:
        return None
    return em.select(pred, ta if ta is not None else em.zeros_like(a), tb if tb is not None else em.zeros_like(b))


OPS["select"].jvp = _select_jvp
OPS["select"].linear_in = ((1, 2),)
defvjp("select", None,
       lambda em, ct, pred, a, b, result: em.select(pred, ct, em.zeros_like(ct)),
       lambda em, ct, pred, a, b, result: em.select(pred, em.zeros_like(ct), ct))

convention("abs", "abs'(0) = 0")
convention("relu", "relu'(0) = 0")
convention("maximum", "on ties (x == y) each operand gets half the derivative, as JAX")
convention("minimum", "on ties (x == y) each operand gets half the derivative, as JAX")
convention("pow", "d/dy uses log(x): NaN for x <= 0 (as JAX); d/dx = y x^(y-1)")
convention("select", "the predicate is not differentiated; each branch gets the derivative where it is chosen")

# ----------------------------------------------------------------------------- batching
for _name in (*UNARY, "erf", *BINARY, "compare", "select"):
    defbatch_elementwise(_name)
