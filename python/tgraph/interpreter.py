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
    return run_block(module, block, env)


def run_block(module, block, env):
    """Run a block's ops on `env` (Values -> arrays, extended in place); returns the values of its
    terminator's operands (func.return, scf.yield, or scf.condition's forwarded values, with the
    condition first)."""
    for op in block.operations:
        opname = op.operation.name
        args = [env[v] for v in op.operands]
        if opname in _TERMINATORS:
            return args
        if opname.startswith("tg."):
            opdef = OPS[opname[3:]]
            result_spec = spec_of(op.results[0].type)
            # f16/bf16 compute in f32 and round each op's result, as accelerators do.
            args = [a.astype(np.float32) if spec_of(v.type).dtype in _LOW_PRECISION else a
                    for a, v in zip(args, op.operands)]
            with np.errstate(all="ignore"):
                value = opdef.interpret(*args, **opdef.decode_attrs(op.operation))
            results = [np.asarray(value).astype(result_spec.np_dtype, copy=False).reshape(result_spec.shape)]
        elif opname in _CONTROL_FLOW:
            results = _CONTROL_FLOW[opname](module, op.operation, args, env)
        elif opname in _SCALAR_OPS:
            results = [_SCALAR_OPS[opname](op.operation, *args)]
        elif opname == "func.call":
            results = run_function(module, ir.FlatSymbolRefAttr(op.attributes["callee"]).value, args)
        else:
            raise TGraphError(f"the interpreter has no rule for '{opname}' (at {op.location}); "
                              "it runs tg functions, before lowering")
        env.update(zip(op.results, results))
    raise TGraphError(f"a block of {block.owner.name} has no terminator")


_TERMINATORS = ("func.return", "scf.yield", "scf.condition")


def _run_region(module, region, env, args=()):
    block = region.blocks[0]
    inner = dict(env)  # a region sees the values above it (closures); its own stay inside
    inner.update(zip(block.arguments, args))
    return run_block(module, block, inner)


def _for(module, op, args, env):
    lower, upper, step, carries = int(args[0]), int(args[1]), int(args[2]), args[3:]
    for i in range(lower, upper, step):
        carries = _run_region(module, op.regions[0], env, [np.int64(i)] + list(carries))
    return list(carries)


def _while(module, op, args, env):
    carries = args
    while True:
        condition, *forwarded = _run_region(module, op.regions[0], env, carries)
        if not condition:
            return forwarded
        carries = _run_region(module, op.regions[1], env, forwarded)


def _if(module, op, args, env):
    return _run_region(module, op.regions[0 if args[0] else 1], env)


def _index_switch(module, op, args, env):
    cases = list(ir.DenseI64ArrayAttr(op.attributes["cases"]))
    index = int(args[0])
    # regions: the default first, then one per case
    return _run_region(module, op.regions[1 + cases.index(index) if index in cases else 0], env)


_CONTROL_FLOW = {"scf.for": _for, "scf.while": _while, "scf.if": _if, "scf.index_switch": _index_switch}


def _constant(op):
    attr = op.attributes["value"]
    if isinstance(attr, ir.FloatAttr):
        return np.float64(attr.value)
    if isinstance(attr, ir.BoolAttr):
        return np.bool_(attr.value)
    if isinstance(attr, ir.DenseElementsAttr):  # a folded tensor.from_elements
        return OPS["constant"].attrs["value"].decode(attr)
    return np.int64(ir.IntegerAttr(attr).value)


_CMPI = {0: np.equal, 1: np.not_equal, 2: np.less, 3: np.less_equal, 4: np.greater, 5: np.greater_equal}
# The scalar glue around control flow: loop indices (index), conditions (i1) and the tensors of rank 0
# that carry them into tg ops and back out.
_SCALAR_OPS = {
    "arith.constant": lambda op: _constant(op),
    "arith.index_cast": lambda op, x: np.int64(x),
    "arith.addi": lambda op, x, y: np.int64(x + y),
    "arith.subi": lambda op, x, y: np.int64(x - y),
    "arith.muli": lambda op, x, y: np.int64(x * y),
    "arith.divsi": lambda op, x, y: np.int64(int(x / y)),  # rounds toward zero, as arith
    "arith.remsi": lambda op, x, y: np.int64(int(np.fmod(x, y))),
    "arith.minsi": lambda op, x, y: np.int64(min(x, y)),
    "arith.maxsi": lambda op, x, y: np.int64(max(x, y)),
    "arith.andi": lambda op, x, y: np.bool_(bool(x) and bool(y)),
    "arith.cmpi": lambda op, x, y: np.bool_(_CMPI[ir.IntegerAttr(op.attributes["predicate"]).value](x, y)),
    "tensor.from_elements": lambda op, x: np.asarray(x, dtype=spec_of(op.results[0].type).np_dtype),
    "tensor.extract": lambda op, x: x[()],
}


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
