"""What the AD passes share: finding the function to differentiate and checking it, reading its
differentiated inputs and results, adding the generated function, re-emitting primal ops."""

from tgraph.dialect import OPS, create, spec_of
from tgraph.support.dtypes import is_float
from tgraph.support.mlir import func, ir
from tgraph.support.symbols import functions, lookup, name_of

from ..base import PassFailure


def find_function(module, name):
    """The func.func called `name` (or the module's only / first function when name is empty)."""
    funcs = functions(module)
    if not funcs:
        raise PassFailure("the module has no func.func to differentiate", module.location)
    found = lookup(module, name) if name else funcs[0]
    if found is None:
        names = ", ".join("@" + name_of(f) for f in funcs)
        raise PassFailure(f"no function @{name} in the module (it has {names})", module.location)
    return found


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
        if lookup(module, name) is not None:
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
