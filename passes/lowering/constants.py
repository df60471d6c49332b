"""Constants: tg.constant -> arith.constant (bufferized to a global), tg.splat -> linalg.fill."""

from tgraph.dialect.core import DENSE
from tgraph.support.mlir import arith

from .builders import full, tensor_of

RULES = {
    "constant": lambda out, value: arith.constant(tensor_of(out.shape, out.dtype), DENSE.encode(value)),
    # A fill, not a splat constant: it costs no memory image and fuses into its consumers.
    "splat": lambda out, value, shape, dtype: full(out.shape, out.dtype, value),
}
