"""Elementwise ops: unary math, binary arithmetic on equal types, compare, select."""

import numpy as np

from .ad import convention, defelementwise, defjvp, deflinear, defvjp, defzero, dtype_of
from .core import OPS, STR, defop, require, same_as_first
from tgraph.dtypes import TensorSpec


def _sigmoid(x):
    # Split by sign so exp never overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# name -> (reference, accepts integers, doc)
UNARY = {
    "neg": (np.negative, True, "-x"),
    "abs": (np.abs, True, "|x|"),
    "exp": (np.exp, False, "e^x"),
    "log": (np.log, False, "natural logarithm; -inf at 0, NaN below"),
    "sqrt": (np.sqrt, False, "square root"),
    "rsqrt": (lambda x: 1 / np.sqrt(x), False, "1 / sqrt(x)"),
    "tanh": (np.tanh, False, "hyperbolic tangent"),
    "sigmoid": (_sigmoid, False, "1 / (1 + e^-x)"),
    "relu": (lambda x: np.maximum(x, np.zeros((), x.dtype)), True, "max(x, 0)"),
    "sin": (np.sin, False, "sine"),
    "cos": (np.cos, False, "cosine"),
    "softplus": (lambda x: np.logaddexp(np.zeros((), x.dtype), x), False, "log(1 + e^x), computed stably"),
}
for _name, (_fn, _ints, _doc) in UNARY.items():
    defop(_name, "elementwise", ("x",), same_as_first(ints=_ints), _fn, doc=_doc)

BINARY = {
    "add": (np.add, True, "x + y"),
    "sub": (np.subtract, True, "x - y"),
    "mul": (np.multiply, True, "x * y"),
    "div": (np.divide, False, "x / y (IEEE: x/0 is ±inf or NaN)"),
    "pow": (np.power, False, "x ** y; NaN for a negative x and a non-integer y"),
    "maximum": (np.maximum, True, "the larger of x and y; NaN if either is NaN"),
    "minimum": (np.minimum, True, "the smaller of x and y; NaN if either is NaN"),
}
for _name, (_fn, _ints, _doc) in BINARY.items():
    defop(_name, "elementwise", ("lhs", "rhs"), same_as_first(ints=_ints), _fn, doc=_doc)

COMPARE_DIRECTIONS = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                      "eq": np.equal, "ne": np.not_equal}


def _infer_compare(specs, direction):
    require(direction in COMPARE_DIRECTIONS,
            f"direction '{direction}' is not one of {', '.join(COMPARE_DIRECTIONS)}")
    lhs, rhs = specs
    require(lhs == rhs, f"operands must have the same type, got {lhs} and {rhs}")
    return TensorSpec(lhs.shape, "i1")


defop("compare", "elementwise", ("lhs", "rhs"), _infer_compare,
      lambda x, y, direction: COMPARE_DIRECTIONS[direction](x, y), attrs={"direction": STR},
      doc="elementwise comparison to i1; `direction` is lt, le, gt, ge, eq or ne")


def _infer_select(specs):
    pred, on_true, on_false = specs
    require(pred.dtype == "i1", f"predicate must have element type i1, got {pred}")
    require(on_true == on_false, f"the two branches must have the same type, got {on_true} and {on_false}")
    require(pred.shape == on_true.shape, f"predicate shape {pred} must equal the branches' shape {on_true}")
    return on_true


defop("select", "elementwise", ("pred", "on_true", "on_false"), _infer_select, np.where,
      doc="on_true where pred, else on_false")


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

# add and sub pass a tangent or cotangent through, negated for sub's rhs: one rule serves both modes
# and a missing operand costs nothing (no add of zeros).
for _name, _rhs in (("add", lambda em, t, x, y, result: t), ("sub", lambda em, t, x, y, result: em.neg(t))):
    defjvp(_name, lambda em, t, x, y, result: t, _rhs)
    defvjp(_name, lambda em, t, x, y, result: t, _rhs)
defelementwise("mul", lambda em, x, y, z: y, lambda em, x, y, z: x)
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
defvjp("select", None,
       lambda em, ct, pred, a, b, result: em.select(pred, ct, em.zeros_like(ct)),
       lambda em, ct, pred, a, b, result: em.select(pred, em.zeros_like(ct), ct))

convention("abs", "abs'(0) = 0")
convention("relu", "relu'(0) = 0")
convention("maximum", "on ties (x == y) each operand gets half the derivative, as JAX")
convention("minimum", "on ties (x == y) each operand gets half the derivative, as JAX")
convention("pow", "d/dy uses log(x): NaN for x <= 0 (as JAX); d/dx = y x^(y-1)")
convention("select", "the predicate is not differentiated; each branch gets the derivative where it is chosen")
