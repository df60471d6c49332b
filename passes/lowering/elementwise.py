"""Elementwise ops -> one parallel linalg.generic each, with arith/math in the body."""

from tgraph.dtypes import is_float
from tgraph.mlir import arith, math

from .builders import elementwise, in_compute_type, scalar, spec


def _const_like(x, value):
    return scalar(value, str(x.type))


def _sigmoid(x):
    # Split by sign so exp never overflows (as the reference does).
    e = math.exp(arith.negf(math.absf(x)))
    one = _const_like(x, 1.0)
    denominator = arith.addf(one, e)
    positive = arith.cmpf(arith.CmpFPredicate.OGE, x, _const_like(x, 0.0))
    return arith.select(positive, arith.divf(one, denominator), arith.divf(e, denominator))


def _log1p(u):
    """log(1 + u) without the cancellation of the naive form: log(w) * u / (w - 1) with w = 1 + u
    is exact to a few ulps (Goldberg); LLVM's own lowering of math.log1p is the naive form."""
    w = arith.addf(_const_like(u, 1.0), u)
    d = arith.subf(w, _const_like(u, 1.0))
    tiny = arith.cmpf(arith.CmpFPredicate.OEQ, d, _const_like(u, 0.0))
    return arith.select(tiny, u, arith.mulf(math.log(w), arith.divf(u, d)))


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow, exact at +-inf."""
    return arith.addf(arith.maximumf(x, _const_like(x, 0.0)), _log1p(math.exp(arith.negf(math.absf(x)))))


FLOAT_UNARY = {
    "neg": arith.negf,
    "abs": math.absf,
    "exp": math.exp,
    "log": math.log,
    "sqrt": math.sqrt,
    "rsqrt": lambda x: arith.divf(_const_like(x, 1.0), math.sqrt(x)),  # as the reference: 1 / sqrt(x)
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: arith.maximumf(x, _const_like(x, 0.0)),  # maximumf propagates NaN, as np.maximum
    "sin": math.sin,
    "cos": math.cos,
    "softplus": _softplus,
}
INT_UNARY = {
    "neg": lambda x: arith.subi(_const_like(x, 0), x),
    "abs": math.absi,
    "relu": lambda x: arith.maxsi(x, _const_like(x, 0)),
}
FLOAT_BINARY = {
    "add": arith.addf, "sub": arith.subf, "mul": arith.mulf, "div": arith.divf, "pow": math.powf,
    "maximum": arith.maximumf, "minimum": arith.minimumf,  # NaN-propagating, as np.maximum/minimum
}
INT_BINARY = {"add": arith.addi, "sub": arith.subi, "mul": arith.muli, "maximum": arith.maxsi, "minimum": arith.minsi}

# NaN compares false except under `ne` (numpy's semantics: ordered predicates, unordered ne).
FLOAT_PREDICATES = {"lt": "OLT", "le": "OLE", "gt": "OGT", "ge": "OGE", "eq": "OEQ", "ne": "UNE"}
SIGNED_PREDICATES = {"lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge", "eq": "eq", "ne": "ne"}
# i1 is unsigned: false < true (as numpy's bool), while signed i1 true is -1.
UNSIGNED_PREDICATES = {"lt": "ult", "le": "ule", "gt": "ugt", "ge": "uge", "eq": "eq", "ne": "ne"}


def _elementwise_rule(float_fns, int_fns, name):
    def rule(out, *operands):
        dtype = spec(operands[0]).dtype
        fn = float_fns[name] if is_float(dtype) else int_fns[name]
        return elementwise(operands, out, in_compute_type(fn, dtype))

    return rule


def _compare(out, lhs, rhs, direction):
    dtype = spec(lhs).dtype
    if is_float(dtype):
        predicate = getattr(arith.CmpFPredicate, FLOAT_PREDICATES[direction])
        return elementwise([lhs, rhs], out, lambda a, b: arith.cmpf(predicate, a, b))
    table = UNSIGNED_PREDICATES if dtype == "i1" else SIGNED_PREDICATES
    predicate = getattr(arith.CmpIPredicate, table[direction])
    return elementwise([lhs, rhs], out, lambda a, b: arith.cmpi(predicate, a, b))


RULES = {name: _elementwise_rule(FLOAT_UNARY, INT_UNARY, name) for name in FLOAT_UNARY}
RULES.update({name: _elementwise_rule(FLOAT_BINARY, INT_BINARY, name) for name in FLOAT_BINARY})
RULES["compare"] = _compare
RULES["select"] = lambda out, pred, on_true, on_false: elementwise([pred, on_true, on_false], out, arith.select)
