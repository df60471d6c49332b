"""tg-drop-donated-results: after bufferization, the results that tg-donate-results computed into
donated arguments are removed from @func: each was returned as its argument's buffer (or is
copied there first, should bufferization have returned another buffer), so the caller reads it
from the array it passed."""

import dataclasses

from tgraph.support.mlir import func, ir, memref

from .pipeline import register_pass
from .tg_donate_results import DonationPass


@register_pass
@dataclasses.dataclass
class DropDonatedResults(DonationPass):
    name = "tg-drop-donated-results"
    summary = "remove the results held by donated argument buffers (after one-shot-bufferize)"

    def donate(self, fop, pairs):
        block = fop.regions[0].blocks[0]
        ret = list(block.operations)[-1]
        values = list(ret.operands)
        for argument, result in pairs:
            if values[result] != block.arguments[argument]:
                with ir.InsertionPoint(ret), ret.location:
                    memref.CopyOp(values[result], block.arguments[argument])
        dropped = {result for _, result in pairs}
        kept = [v for k, v in enumerate(values) if k not in dropped]
        with ir.InsertionPoint(ret), ret.location:
            func.ReturnOp(kept)
        ret.erase()
        ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
        fop.attributes["function_type"] = ir.TypeAttr.get(
            ir.FunctionType.get(list(ftype.inputs), [t for k, t in enumerate(ftype.results) if k not in dropped]))
        if "res_attrs" in fop.attributes:
            attrs = list(ir.ArrayAttr(fop.attributes["res_attrs"]))
            fop.attributes["res_attrs"] = ir.ArrayAttr.get([a for k, a in enumerate(attrs) if k not in dropped])
