"""tg-generate-adjoint: reverse mode. For `@f(x1..xn) -> (y1..ym)` emit

  @f_vjp(x1..xn, seed_j for each floating-point y_j) -> (dx_i for i in wrt)
  @f_value_and_grad(x1..xn, seeds...) -> (y1..ym, dx_i...)

in tg ops (so they can be differentiated again). With `unit-seed`, the seeds are constants 1
instead of arguments (the gradient of a scalar output, PyTorch's `backward()`), and the first
function is named `<func>_grad`.

One forward sweep re-emits the primal ops, so every forward value is computed once and reused by
the rules; the reverse sweep walks the ops backwards, asks each op's VJP rule for the cotangents
of its active operands, and accumulates fan-out with add. Symbolic zeros: a value that does not
depend on a differentiated input, or that no output depends on, never gets a cotangent, and no
arithmetic is emitted for it. Loops and branches: see reverse_mode."""

import dataclasses

from tgraph.dialect.ad import Emitter, add_any
from tgraph.support.mlir import func, ir

from ..base import ModulePass
from ..pipeline import register_pass
from .common import differentiable_inputs, find_function, float_results, insert_function, straight_line_body
from .forward_mode import propagate
from .reverse_mode import forward, reverse


def emit_adjoint(fop, wrt, float_outputs, entry, seeds, unit_seed):
    """Fill `entry` with the forward sweep, then the reverse sweep; returns (primal outputs, gradients)."""
    block = fop.regions[0].blocks[0]
    ops = list(block.operations)
    ret, body = ops[-1], ops[:-1]
    outputs = list(ret.operands)
    active = propagate(body, {block.arguments[i] for i in wrt})
    env = dict(zip(block.arguments, entry.arguments))
    records = forward(body, env, active)
    ct = {}
    em = Emitter(ret.location)
    for k, i in enumerate(float_outputs):
        if outputs[i] in active:
            seed = em.full_like(env[outputs[i]], 1.0) if unit_seed else seeds[k]
            ct[outputs[i]] = add_any(em, ct.get(outputs[i]), seed)
    reverse(records, env, active, ct)
    grads = [ct[block.arguments[i]] if block.arguments[i] in ct else em.zeros_like(env[block.arguments[i]])
             for i in wrt]
    return [env[v] for v in outputs], grads


@register_pass
@dataclasses.dataclass
class GenerateAdjoint(ModulePass):
    name = "tg-generate-adjoint"
    summary = "reverse mode: emit @f_vjp(x..., seed...) -> dx... and @f_value_and_grad(x..., seed...) -> (y..., dx...)"

    func: str = dataclasses.field(default="", metadata={"help": "function to differentiate (default: the first)"})
    wrt: tuple[int, ...] = dataclasses.field(default=(), metadata={"help": "differentiated arguments (default: all float)"})
    vjp: str = dataclasses.field(default="", metadata={"help": "name of the gradient function (default: <func>_vjp, or <func>_grad with unit-seed)"})
    value_and_grad: str = dataclasses.field(default="", metadata={"help": "name of the value-and-gradient function (default: <func>_value_and_grad)"})
    unit_seed: bool = dataclasses.field(default=False, metadata={"help": "seed every float result with 1 instead of taking seed arguments"})

    def run(self, module):
        fop = find_function(module, self.func)
        name = ir.StringAttr(fop.attributes["sym_name"]).value
        block = straight_line_body(fop)
        wrt = differentiable_inputs(fop, self.wrt)
        outputs = list(list(block.operations)[-1].operands)
        float_outputs = float_results(fop, outputs)
        arg_types = [a.type for a in block.arguments]
        seed_types = [] if self.unit_seed else [outputs[i].type for i in float_outputs]
        grad_types = [arg_types[i] for i in wrt]
        vjp_name = self.vjp or f"{name}_{'grad' if self.unit_seed else 'vjp'}"
        vag_name = self.value_and_grad or f"{name}_value_and_grad"
        after = fop
        for fname, with_values in ((vjp_name, False), (vag_name, True)):
            results = ([v.type for v in outputs] if with_values else []) + grad_types
            new, entry = insert_function(module, after, fname, arg_types + seed_types, results)
            with ir.InsertionPoint(entry):
                values, grads = emit_adjoint(fop, wrt, float_outputs, entry, list(entry.arguments[len(arg_types):]),
                                             self.unit_seed)
                func.ReturnOp((values if with_values else []) + grads, loc=list(block.operations)[-1].location)
            after = new
