"""tg-generate-tangent: forward mode. For `@f(x1..xn) -> (y1..ym)` emit
`@f_jvp(x1..xn, dx_i for i in wrt) -> (y1..ym, dy_j for each floating-point y_j)`, the tangent
computed alongside the primal in one sweep (through loops and branches: see forward_mode) (`primal=false` returns the dy_j alone), in tg ops (so it can be differentiated again).

Symbolic zeros: a value that does not depend on a differentiated input has no tangent, and no
arithmetic is emitted for it; zeros are materialized only where an output needs one."""

import dataclasses

from tgraph.dialect.ad import Emitter
from tgraph.support.mlir import func, ir

from ..base import ModulePass
from ..pipeline import register_pass
from .forward_mode import jvp_ops
from .common import differentiable_inputs, find_function, float_results, insert_function, straight_line_body


@register_pass
@dataclasses.dataclass
class GenerateTangent(ModulePass):
    name = "tg-generate-tangent"
    summary = "forward mode: emit @f_jvp(x..., dx...) -> (y..., dy...)"

    func: str = dataclasses.field(default="", metadata={"help": "function to differentiate (default: the first)"})
    wrt: tuple[int, ...] = dataclasses.field(default=(), metadata={"help": "differentiated arguments (default: all float)"})
    out: str = dataclasses.field(default="", metadata={"help": "name of the generated function (default: <func>_jvp)"})
    primal: bool = dataclasses.field(default=True, metadata={"help": "also return the primal results (false: tangents only)"})

    def run(self, module):
        fop = find_function(module, self.func)
        name = ir.StringAttr(fop.attributes["sym_name"]).value
        block = straight_line_body(fop)
        wrt = differentiable_inputs(fop, self.wrt)
        ret = list(block.operations)[-1]
        outputs = list(ret.operands)
        float_outputs = float_results(fop, outputs)
        arg_types = [a.type for a in block.arguments]
        values = outputs if self.primal else []
        new, entry = insert_function(module, fop, self.out or f"{name}_jvp", arg_types + [arg_types[i] for i in wrt],
                                     [v.type for v in values] + [outputs[i].type for i in float_outputs])
        with ir.InsertionPoint(entry):
            env = dict(zip(block.arguments, entry.arguments))
            tangent = {block.arguments[i]: entry.arguments[len(arg_types) + k] for k, i in enumerate(wrt)}
            jvp_ops(list(block.operations)[:-1], env, tangent)
            em = Emitter(ret.location)
            dys = [tangent[outputs[i]] if outputs[i] in tangent else em.zeros_like(env[outputs[i]])
                   for i in float_outputs]
            func.ReturnOp([env[v] for v in values] + dys, loc=ret.location)
