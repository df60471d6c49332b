"""Elementwise ops: unary math, binary arithmetic on equal types, compare, select."""

import numpy as np

from .core import STR, defop, require, same_as_first
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
