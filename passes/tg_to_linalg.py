"""tg-to-linalg: every tg op to linalg, tensor, arith and math on tensors (scf for scatter_add),
as a full dialect conversion. The rules live in passes/lowering, one module per op family.

After the pass no tg op remains; an op the conversion neither lowers nor keeps is an error at
that op (a diagnostic, not a half-lowered module)."""

import dataclasses

from tgraph.dialect import OPS, spec_of
from tgraph.support.mlir import ir, rewrite

from .base import ModulePass, PassFailure
from .lowering import RULES
from .lowering.indexing import WITHOUT_DYNAMIC_OFFSETS
from .pipeline import register_pass

# The lowering's output, and what surrounds tg ops in a module (functions, calls, returns).
LEGAL_DIALECTS = ("builtin", "func", "linalg", "tensor", "arith", "math", "scf")


def _conversion_pattern(opdef, rule):
    def convert(op, adaptor, type_converter, rewriter):
        attrs = opdef.decode_attrs(op.operation)
        with rewriter.ip, op.location:
            value = rule(spec_of(op.results[0].type), *adaptor.operands, **attrs)
        rewriter.replace_op(op, [value])

    return convert


def _keep_type(t):
    """Static tensor types are the same before and after."""
    return t


@register_pass
@dataclasses.dataclass
class TgToLinalg(ModulePass):
    name = "tg-to-linalg"
    summary = "lower every tg op to linalg, tensor, arith and math on tensors (full dialect conversion)"

    dynamic_offsets: bool = dataclasses.field(default=True, metadata={
        "help": "lower set_row to an insert at a dynamic offset (false: a select over the table, for targets "
                "whose host code cannot read the offset)"})

    def run(self, module):
        rules = dict(RULES) if self.dynamic_offsets else {**RULES, **WITHOUT_DYNAMIC_OFFSETS}
        types = rewrite.TypeConverter()
        types.add_conversion(_keep_type)  # a module-level function: the binding keeps no reference to it
        # The binding does not keep the pattern callables alive either: hold them until the conversion ends.
        callbacks = {name: _conversion_pattern(OPS[name], rule) for name, rule in rules.items()}
        patterns = rewrite.RewritePatternSet()
        for name, callback in callbacks.items():
            patterns.add_conversion(OPS[name].full_name, callback, types)
        target = rewrite.ConversionTarget()
        target.add_illegal_dialect("tg")
        target.add_legal_dialect(*LEGAL_DIALECTS)
        try:
            rewrite.apply_full_conversion(module, target, patterns.freeze())
        except ir.MLIRError as err:
            first = err.error_diagnostics[0] if err.error_diagnostics else None
            raise PassFailure(first.message if first else str(err).strip(), first.location if first else None) from None
