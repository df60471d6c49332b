"""Lowering rules from tg to linalg, tensor, arith and math on tensors: one module per op family,
each with a RULES table from op name to rule; elementwise ops' rules wrap the scalar bodies of
their records, and a record's own `lowering` rule is taken as it is.

A rule is `rule(out, *operands, **attrs) -> Value`: `out` is the result's TensorSpec, operands
are the converted operand Values and attrs the op's decoded attributes (as the interpreter gets
them). It emits at the current insertion point and location and returns the replacement."""

from tgraph.dialect import OPS

from . import (collectives, constants, contraction, conversion, convolution, elementwise, indexing, random, reduction,
               shape)

FAMILIES = (constants, elementwise, shape, reduction, contraction, convolution, indexing, conversion, random,
            collectives)
RULES = {name: rule for family in FAMILIES for name, rule in family.RULES.items()}
# An op record may carry its own tensor-level rule (`lowering`), written beside its definition.
RULES.update({name: opdef.lowering for name, opdef in OPS.items() if opdef.lowering is not None})
