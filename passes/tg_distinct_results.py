"""tg-distinct-results: every result of a public function gets a tensor of its own.

Results become out-parameters (`buffer-results-to-out-params`): one buffer per result, written by
the op that computes it. A value returned twice (`return %0, %0`, or two results that CSE merged),
or a result that is an argument or a constant, has no op of its own to write each buffer, and the
upstream pass crashes on the first. A copy into a fresh tensor for each such result, made just
before bufferization, gives each one its own writer."""

import dataclasses

from tgraph.support.mlir import ir, linalg, tensor
from tgraph.support.symbols import functions

from .base import ModulePass
from .pipeline import register_pass


def _needs_copy(value, seen):
    if value in seen or isinstance(value, ir.BlockArgument):
        return True
    return value.owner.name in ("arith.constant", "tensor.empty")


@register_pass
@dataclasses.dataclass
class DistinctResults(ModulePass):
    name = "tg-distinct-results"
    summary = "copy results that are repeated, arguments or constants, so each result has its own buffer"

    def run(self, module):
        for fn in functions(module):
            if not fn.regions[0].blocks:
                continue
            for block in fn.regions[0].blocks:
                ret = block.operations[len(block.operations) - 1]
                if ret.operation.name != "func.return":
                    continue
                seen = []
                for i, value in enumerate(list(ret.operands)):
                    if isinstance(value.type, ir.RankedTensorType) and _needs_copy(value, seen):
                        with ir.InsertionPoint(ret), ret.location:
                            t = value.type
                            fresh = tensor.EmptyOp(list(t.shape), t.element_type).result
                            ret.operands[i] = linalg.copy(value, outs=[fresh])
                    seen.append(value)
