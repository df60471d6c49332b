"""tg-branch-results-in-place: every branch of an scf.if or scf.index_switch computes its results
into one tensor created before the branch op, so bufferized, all branches write the same buffer and
the op's results are that buffer (no buffer chosen per branch; the GPU's runtime, which allocates
each buffer once, needs it so). A branch whose result is not computed in it (an operand passed
through) copies it into that tensor."""

import dataclasses

from tgraph.support.mlir import ir, linalg, tensor

from .base import ModulePass, collect_ops
from .destinations import write_into
from .pipeline import register_pass


@register_pass
@dataclasses.dataclass
class BranchResultsInPlace(ModulePass):
    name = "tg-branch-results-in-place"
    summary = "compute each result of every branch of scf.if / scf.index_switch into one tensor made before it"

    def run(self, module):
        for branch in collect_ops(module, lambda op: op.name in ("scf.if", "scf.index_switch")):
            for q, result in enumerate(branch.results):
                if not isinstance(result.type, ir.RankedTensorType):
                    continue
                t = ir.RankedTensorType(result.type)
                with ir.InsertionPoint(branch), branch.location:
                    shared = tensor.EmptyOp(list(t.shape), t.element_type).result
                for region in branch.regions:
                    terminator = list(region.blocks[0].operations)[-1]
                    if write_into(terminator.operands[q], shared, branch) is None:
                        # Not computed here (an operand passed through): copied into the shared tensor.
                        with ir.InsertionPoint(terminator), terminator.location:
                            terminator.operands[q] = linalg.copy(terminator.operands[q], outs=[shared])
