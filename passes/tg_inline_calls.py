"""tg-inline-calls: every func.call of a function the module defines is replaced by the callee's
body, and the private functions no longer called are erased. Custom derivative rules and
checkpoints are calls of private functions (see ad/calls.py); once the derivatives are generated,
the backends compile one function of tg ops. (Upstream's `inline` pass does not move tg ops: the
dialect, defined in IRDL, has no inliner interface.)"""

import dataclasses

from tgraph.support.mlir import ir
from tgraph.support.symbols import functions, name_of

from .ad.calls import inline, symbol
from .base import ModulePass, PassFailure, collect_ops
from .pipeline import register_pass

MAX_DEPTH = 64  # calls inside inlined bodies, inlined in turn: deeper than this is recursion


def inline_calls(module):
    """Inline every call of a function defined in `module`, nested ones included."""
    by_name = {name_of(f): f for f in functions(module)}
    for _ in range(MAX_DEPTH):
        calls = collect_ops(module, lambda op: op.name == "func.call"
                            and symbol(op.attributes["callee"]) in by_name
                            and len(by_name[symbol(op.attributes["callee"])].regions[0].blocks))
        if not calls:
            return
        for call in calls:
            with ir.InsertionPoint(call), call.location:
                results = inline(by_name[symbol(call.attributes["callee"])], list(call.operands))
            for old, new in zip(call.results, results):
                old.replace_all_uses_with(new)
            call.erase()
    raise PassFailure(f"calls nested more than {MAX_DEPTH} deep: a function calls itself", module.location)


def erase_unused_private(module):
    """Erase the private functions no call or custom rule refers to any more."""
    used = set()

    def visit(op):
        for name in op.attributes:
            value = op.attributes[name]
            items = list(ir.ArrayAttr(value)) if isinstance(value, ir.ArrayAttr) else [value]
            used.update(ir.FlatSymbolRefAttr(a).value for a in items if isinstance(a, ir.FlatSymbolRefAttr))
        return ir.WalkResult.ADVANCE

    module.walk(visit)
    for fop in functions(module):
        visibility = fop.attributes["sym_visibility"] if "sym_visibility" in fop.attributes else None
        if visibility is not None and ir.StringAttr(visibility).value == "private" and name_of(fop) not in used:
            fop.operation.erase()


@register_pass
@dataclasses.dataclass
class InlineCalls(ModulePass):
    name = "tg-inline-calls"
    summary = "replace every func.call of a function of the module by its body; erase the private functions left unused"

    def run(self, module):
        inline_calls(module)
        erase_unused_private(module)
