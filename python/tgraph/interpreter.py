"""The reference interpreter: evaluates tg functions with numpy, one rule per op (the `interpret`
of each op's definition). It is the specification that lowerings and derivatives are tested against."""

import numpy as np

from tgraph.dialect import OPS, spec_of
from .dtypes import convert_input
from .errors import TGraphError, TGraphTypeError, user_facing
from .mlir import ir

_LOW_PRECISION = ("f16", "bf16")


def _check_inputs(name, specs, arrays):
    if len(arrays) != len(specs):
        raise TGraphError(f"@{name} takes {len(specs)} inputs, got {len(arrays)}")
    return [convert_input(a, spec, f"@{name}", f"input {i}") for i, (spec, a) in enumerate(zip(specs, arrays))]


def run_function(graph, name, arrays):
    fop = graph.func_op(name)
    block = fop.regions[0].blocks[0]
    specs = [spec_of(a.type) for a in block.arguments]
    env = dict(zip(block.arguments, _check_inputs(name, specs, arrays)))
    for op in block.operations:
        opname = op.operation.name
        if opname == "func.return":
            return [env[v] for v in op.operands]
        args = [env[v] for v in op.operands]
        if opname == "func.call":
            callee = ir.FlatSymbolRefAttr(op.attributes["callee"]).value
            results = run_function(graph, callee, args)
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
def interpret(graph_or_module, *arrays, func=None):
    """Evaluate a tg function on numpy arrays; returns an array, or a tuple for several results."""
    from .graph import Graph

    graph = graph_or_module if isinstance(graph_or_module, Graph) else Graph(graph_or_module)
    name = func or graph.name
    with graph.module.context:
        results = run_function(graph, name, arrays)
    return results[0] if len(results) == 1 else tuple(results)
