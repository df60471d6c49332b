"""The reference interpreter: evaluates tg functions with numpy, one rule per op (the `interpret`
of each op's definition). It is the specification that lowerings and derivatives are tested against.
It takes an ir.Module and a function name (a Graph is both); it knows nothing of graphs or tracing."""

import numpy as np

from tgraph.dialect import OPS, spec_of
from .support.arguments import conform
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.mlir import ir
from .support.symbols import functions, lookup, name_of

_LOW_PRECISION = ("f16", "bf16")


def _function(module, name):
    fop = lookup(module, name)
    if fop is None:
        names = ", ".join("@" + name_of(f) for f in functions(module)) or "none"
        raise TGraphError(f"no function @{name} in the module; it has {names}")
    return fop


def run_function(module, name, arrays):
    """The results of @name in `module` on `arrays` (checked against its inputs), as a list."""
    block = _function(module, name).regions[0].blocks[0]
    specs = [spec_of(a.type) for a in block.arguments]
    env = dict(zip(block.arguments, conform(arrays, specs, f"@{name}", "inputs")))
    for op in block.operations:
        opname = op.operation.name
        if opname == "func.return":
            return [env[v] for v in op.operands]
        args = [env[v] for v in op.operands]
        if opname == "func.call":
            callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
            results = run_function(module, callee, args)
        elif opname.startswith("tg."):
            opdef = OPS[opname[3:]]
            result_spec = spec_of(op.results[0].type)
            # f16/bf16 compute in f32 and round each op's result, as accelerators do.
            args = [a.astype(np.float32) if spec_of(v.type).dtype in _LOW_PRECISION else a
                    for a, v in zip(args, op.operands)]
            with np.errstate(all="ignore"):
                value = opdef.interpret(*args, **opdef.decode_attrs(op.operation))
            results = [np.asarray(value).astype(result_spec.np_dtype, copy=False).reshape(result_spec.shape)]
        else:
            raise TGraphError(f"the interpreter has no rule for '{opname}' (at {op.location}); "
                              "it runs tg functions, before lowering")
        env.update(zip(op.results, results))
    raise TGraphError(f"@{name} has no func.return")


@user_facing
def interpret(module, *arrays, func=None):
    """Evaluate a tg function on numpy arrays: `module` is a tgraph.Graph (entered at its function)
    or an ir.Module (at `func`, default its first function). Returns an array, or a tuple for
    several results."""
    name = func or getattr(module, "name", None)
    module = getattr(module, "module", module)  # a Graph holds its ir.Module
    if not isinstance(module, ir.Module):
        raise TGraphTypeError(f"interpret needs a tgraph.Graph or an ir.Module, got {type(module).__name__}")
    if name is None:
        funcs = functions(module)
        if not funcs:
            raise TGraphError("the module has no func.func")
        name = name_of(funcs[0])
    with module.context:
        results = run_function(module, name, arrays)
    return results[0] if len(results) == 1 else tuple(results)
