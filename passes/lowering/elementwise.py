"""Elementwise ops -> one parallel linalg.generic each, around the op's scalar body (its record's
float_body or int_body: see dialect/elementwise.py)."""

from tgraph.dialect import OPS
from tgraph.support.dtypes import is_float

from .builders import elementwise, in_compute_type, spec


def body_rule(opdef):
    """The lowering of an op with scalar bodies. The body is picked by the last operand's element
    type (the values; select's predicate comes first); f16/bf16 results are computed in f32."""

    def rule(out, *operands, **attrs):
        body = opdef.float_body if is_float(spec(operands[-1]).dtype) else opdef.int_body
        return elementwise(operands, out, in_compute_type(lambda *xs: body(*xs, **attrs), out.dtype))

    return rule


RULES = {name: body_rule(opdef) for name, opdef in OPS.items() if opdef.float_body is not None}
