"""Elementwise ops: unary math, binary arithmetic on equal types, compare, select."""

import numpy as np

from .ad import defjvp, defjvp_elementwise, deflinear, defzero
from .core import OPS, STR, defop, require, same_as_first, spec_of
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


deflinear("neg")
defjvp_elementwise("abs", lambda em, x, y: _sign(em, x))
defjvp_elementwise("exp", lambda em, x, y: y)
defjvp_elementwise("log", lambda em, x, y: em.div(em.full_like(x, 1.0), x))
defjvp_elementwise("sqrt", lambda em, x, y: em.div(em.full_like(x, 0.5), y))
defjvp_elementwise("rsqrt", lambda em, x, y: em.mul(em.full_like(x, -0.5), em.div(y, x)))
defjvp_elementwise("tanh", lambda em, x, y: em.sub(em.full_like(x, 1.0), em.mul(y, y)))
defjvp_elementwise("sigmoid", lambda em, x, y: em.mul(y, em.sub(em.full_like(x, 1.0), y)))
# relu'(0) = 0
defjvp_elementwise("relu", lambda em, x, y: em.cast(em.compare(x, em.zeros_like(x), direction="gt"), dtype=_dt(x)))
defjvp_elementwise("sin", lambda em, x, y: em.cos(x))
defjvp_elementwise("cos", lambda em, x, y: em.neg(em.sin(x)))
defjvp_elementwise("softplus", lambda em, x, y: em.sigmoid(x))

deflinear("add")
deflinear("sub")
defjvp("mul", lambda em, t, x, y, result: em.mul(t, y), lambda em, t, x, y, result: em.mul(x, t))
defjvp("div", lambda em, t, x, y, result: em.div(t, y),
       lambda em, t, x, y, result: em.neg(em.mul(t, em.div(result, y))))
defjvp("pow", lambda em, t, x, y, result: em.mul(t, em.mul(y, em.pow(x, em.sub(y, em.full_like(y, 1.0))))),
       lambda em, t, x, y, result: em.mul(t, em.mul(em.log(x), result)))


def _share(em, x, y, direction):
    """Weight of x in maximum/minimum: 1 where x wins, 0 where it loses, 1/2 on ties (as JAX)."""
    wins = em.cast(em.compare(x, y, direction=direction), dtype=_dt(x))
    ties = em.cast(em.compare(x, y, direction="eq"), dtype=_dt(x))
    return em.add(wins, em.scale(ties, 0.5))


defjvp("maximum", lambda em, t, x, y, result: em.mul(t, _share(em, x, y, "gt")),
       lambda em, t, x, y, result: em.mul(t, _share(em, y, x, "gt")))
defjvp("minimum", lambda em, t, x, y, result: em.mul(t, _share(em, x, y, "lt")),
       lambda em, t, x, y, result: em.mul(t, _share(em, y, x, "lt")))
defzero("compare")


def _select_jvp(em, primals, tangents, result):
    pred, a, b = primals
    _, ta, tb = tangents
    if ta is None and tb is None:
        return None
    return em.select(pred, ta if ta is not None else em.zeros_like(a), tb if tb is not None else em.zeros_like(b))


OPS["select"].jvp = _select_jvp


def _dt(value):
    return spec_of(value.type).dtype
