"""tg-generate-tangent: forward mode. For `@f(x1..xn) -> (y1..ym)` emit
`@f_jvp(x1..xn, dx_i for i in wrt) -> (y1..ym, dy_j for each floating-point y_j)`, the tangent
computed alongside the primal in one sweep (`primal=false` returns the dy_j alone), in tg ops (so it can be differentiated again).

Symbolic zeros: a value that does not depend on a differentiated input has no tangent, and no
arithmetic is emitted for it; zeros are materialized only where an output needs one."""

import dataclasses

from tgraph.dialect import OPS, create, spec_of
from tgraph.dialect.ad import Emitter
from tgraph.dtypes import is_float
from tgraph.mlir import func, ir

from .base import ModulePass, PassFailure
from .pipeline import register_pass


def find_function(module, name):
    """The func.func called `name` (or the module's only / first function when name is empty)."""
    funcs = [op for op in module.regions[0].blocks[0].operations if op.operation.name == "func.func"]
    if not funcs:
        raise PassFailure("the module has no func.func to differentiate", module.location)
    if not name:
        return funcs[0]
    for f in funcs:
        if ir.StringAttr(f.attributes["sym_name"]).value == name:
            return f
    names = ", ".join("@" + ir.StringAttr(f.attributes["sym_name"]).value for f in funcs)
    raise PassFailure(f"no function @{name} in the module (it has {names})", module.location)


def straight_line_body(fop):
    """The function's only block; a PassFailure at the op that makes it more (a branch, or the
    first op of a second block): the AD passes read one block ending in func.return, and would
    otherwise differentiate the first block alone and return a wrong derivative."""
    name = ir.StringAttr(fop.attributes["sym_name"]).value
    blocks = list(fop.regions[0].blocks)
    if not blocks:
        raise PassFailure(f"@{name} is a declaration: it has no body to differentiate", fop.location)
    terminator = list(blocks[0].operations)[-1]
    if len(blocks) > 1 or terminator.operation.name != "func.return":
        raise PassFailure(f"cannot differentiate @{name}: it has {len(blocks)} blocks joined by "
                          f"'{terminator.operation.name}'; differentiation supports one block of tg ops ending in func.return",
                          terminator.location)
    return blocks[0]


def differentiable_inputs(fop, wrt):
    """Indices of the differentiated arguments: `wrt`, or every floating-point argument."""
    args = fop.regions[0].blocks[0].arguments
    specs = [spec_of(a.type) for a in args]
    name = ir.StringAttr(fop.attributes["sym_name"]).value
    if not wrt:
        return [i for i, s in enumerate(specs) if is_float(s.dtype)]
    for i in wrt:
        if not 0 <= i < len(args):
            raise PassFailure(f"wrt={i} is out of range: @{name} has {len(args)} arguments", fop.location)
        if not is_float(specs[i].dtype):
            raise PassFailure(f"cannot differentiate @{name} with respect to argument {i} of type {specs[i]}: "
                              "only floating-point arguments have derivatives", fop.location)
    return sorted(set(wrt))


def float_results(fop, outputs):
    """Indices of the floating-point results, the ones that have derivatives."""
    found = [i for i, v in enumerate(outputs) if is_float(spec_of(v.type).dtype)]
    if not found:
        name = ir.StringAttr(fop.attributes["sym_name"]).value
        raise PassFailure(f"@{name} has no floating-point result to differentiate", fop.location)
    return found


def insert_function(module, after, name, inputs, results):
    with ir.InsertionPoint(module.regions[0].blocks[0]), after.location:
        existing = [ir.StringAttr(op.attributes["sym_name"]).value
                    for op in module.regions[0].blocks[0].operations if op.operation.name == "func.func"]
        if name in existing:
            raise PassFailure(f"a function @{name} already exists; choose another name for the derivative",
                              after.location)
        fop = func.FuncOp(name, ir.FunctionType.get(inputs, results))
        fop.operation.move_after(after)
        return fop, fop.add_entry_block()


def clone_primal(op, env):
    """Re-emit a tg op on mapped operands; returns the new result."""
    opname = op.operation.name
    if not opname.startswith("tg."):
        raise PassFailure(f"cannot differentiate through '{opname}': only tg ops have derivative rules", op.location)
    opdef = OPS[opname[3:]]
    attrs = opdef.decode_attrs(op.operation)
    value, _ = create(opdef.name, [env[v] for v in op.operands], attrs, loc=op.location)
    return opdef, attrs, value


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
            for op in block.operations:
                if op.operation.name == "func.return":
                    break
                opdef, attrs, value = clone_primal(op, env)
                env[op.results[0]] = value
                tangents = [tangent.get(v) for v in op.operands]
                if any(t is not None for t in tangents) and is_float(spec_of(value.type).dtype):
                    t = opdef.jvp(Emitter(op.location), [env[v] for v in op.operands], tangents, value, **attrs)
                    if t is not None:
                        tangent[op.results[0]] = t
            em = Emitter(ret.location)
            dys = [tangent[outputs[i]] if outputs[i] in tangent else em.zeros_like(env[outputs[i]])
                   for i in float_outputs]
            func.ReturnOp([env[v] for v in values] + dys, loc=ret.location)
