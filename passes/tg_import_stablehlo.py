"""tg-import-stablehlo: a module of StableHLO (as `jax.export` and torch-mlir's FX importer write it)
to tg ops and scf control flow, the functions it calls inlined, so that everything tgraph does
(its derivative passes, vmap, both backends) applies to an imported program.

Each op goes through its rule in `stablehlo_rules.py`. `stablehlo.while` becomes an `scf.for`
carrying the same values when it counts (as `fori_loop` and `scan` write it: a carry that starts
at a constant, is compared `<` a constant and grows by one per iteration), so reverse mode can
differentiate it; any other while becomes an `scf.while`. `stablehlo.case` becomes an
`scf.index_switch` whose default is the last branch (StableHLO's rule for an index out of range).
An op without a rule is an error at that op, naming it."""

import dataclasses

import numpy as np

from tgraph.dialect import OPS, VerifyError, spec_of
from tgraph.dialect.control_flow import index_constant, tensor_as_condition, tensor_as_index
from tgraph.support.mlir import ir, scf
from tgraph.support.symbols import functions

from .base import ModulePass, PassFailure
from .pipeline import register_pass
from .stablehlo_rules import constant_value, convert, stablehlo
from .tg_inline_calls import erase_unused_private, inline_calls

TERMINATORS = ("stablehlo.return", "func.return")
# Attributes of jax.export's and torch-mlir's modules that mean nothing to tg.
FOREIGN_PREFIXES = ("mhlo.", "jax.", "sdy.", "torch.")


def convert_block(block):
    """Convert the StableHLO ops of `block`, and of the regions nested in its other ops, in order
    (so each op's operands are converted before it). The block's terminator is left to its owner."""
    for op in list(block.operations):
        name = op.name
        if name in TERMINATORS:
            continue
        if name == "stablehlo.while":
            new = _while(op)
        elif name == "stablehlo.case":
            new = _case(op)
        elif name.startswith(("stablehlo.", "chlo.")) or name == "arith.constant" and _is_tensor(op.results[0]):
            with ir.InsertionPoint(op):
                new = convert(op, list(op.operands))
        else:
            for region in op.regions:
                for inner in region.blocks:
                    convert_block(inner)
            continue
        for old, value in zip(op.results, new):
            old.replace_all_uses_with(value)
        op.erase()


def _is_tensor(value):
    return isinstance(value.type, ir.RankedTensorType)


def _scalar_constant(value):
    """The number a rank-0 constant (stablehlo's or tg's) holds, else None."""
    owner = value.owner
    if not isinstance(owner, ir.Block) and getattr(owner, "operation", owner).name == "stablehlo.constant":
        array = np.asarray(OPS["constant"].attrs["value"].decode(owner.attributes["value"]))
    else:
        array = constant_value(value)
    return None if array is None or array.size != 1 else array.reshape(-1)[0].item()


def _trip_count(op):
    """The number of iterations of a while that counts (see the module's doc), else None."""
    cond, body = (region.blocks[0] for region in op.regions)
    ops = [o for o in cond.operations if o.name not in TERMINATORS]
    compares = [o for o in ops if o.name == "stablehlo.compare"]
    if len(compares) != 1 or any(o.name not in ("stablehlo.compare", "stablehlo.constant") for o in ops):
        return None
    compare = compares[0]
    terminator = list(cond.operations)[-1]
    if list(terminator.operands) != [compare.results[0]]:
        return None
    if stablehlo.ComparisonDirectionAttr(compare.attributes["comparison_direction"]).value != "LT":
        return None
    counter, bound = compare.operands
    if not isinstance(counter.owner, ir.Block) or counter.owner != cond:
        return None
    k, limit, start = counter.arg_number, _scalar_constant(bound), _scalar_constant(op.operands[counter.arg_number])
    if limit is None or start is None:
        return None
    step = list(body.operations)[-1].operands[k].owner
    if isinstance(step, ir.Block) or step.name != "stablehlo.add":
        return None
    a, b = step.operands
    arg = body.arguments[k]
    if not ((a == arg and _scalar_constant(b) == 1) or (b == arg and _scalar_constant(a) == 1)):
        return None
    return max(0, int(limit) - int(start))


def _move(old_block, new_block, new_args):
    """Move old_block's ops to the end of new_block; its arguments become `new_args`."""
    for old, new in zip(old_block.arguments, new_args):
        old.replace_all_uses_with(new)
    for o in list(old_block.operations):
        new_block.append(o)


def _finish(block, make_terminator):
    """Convert the block's ops, then replace its StableHLO return by `make_terminator(values)`."""
    convert_block(block)
    terminator = list(block.operations)[-1]
    with ir.InsertionPoint(terminator), terminator.location:
        make_terminator(list(terminator.operands))
    terminator.erase()


def _while(op):
    inits = list(op.operands)
    types = [v.type for v in inits]
    cond, body = (region.blocks[0] for region in op.regions)
    trips = _trip_count(op)
    with ir.InsertionPoint(op), op.location:
        if trips is not None:  # counts: an scf.for of the same carries (the counter among them)
            loop = scf.ForOp(index_constant(0), index_constant(trips), index_constant(1), inits)
            _move(body, loop.body, list(loop.inner_iter_args))
            _finish(loop.body, scf.YieldOp)
            return list(loop.results)
        loop = scf.WhileOp(types, inits)
        before = loop.before.blocks.append(*types)
        after = loop.after.blocks.append(*types)
    _move(cond, before, list(before.arguments))
    _finish(before, lambda values: scf.ConditionOp(tensor_as_condition(values[0]), list(before.arguments)))
    _move(body, after, list(after.arguments))
    _finish(after, scf.YieldOp)
    return list(loop.results)


def _case(op):
    (index,) = op.operands
    branches = list(op.regions)
    types = [r.type for r in op.results]
    if len(branches) == 1:  # one branch: it runs whatever the index
        block = branches[0].blocks[0]
        convert_block(block)
        terminator = list(block.operations)[-1]
        values = list(terminator.operands)
        for o in list(block.operations)[:-1]:
            o.move_before(op)
        return values
    with ir.InsertionPoint(op), op.location:
        switch = scf.IndexSwitchOp(types, tensor_as_index(index), list(range(len(branches) - 1)))
    regions = list(switch.regions)
    for region in regions:
        if not len(region.blocks):
            region.blocks.append()
    # index_switch's regions: the default first, then the cases; StableHLO's out-of-range index takes
    # the last branch, which is therefore the default.
    for branch, region in zip(branches, regions[1:] + regions[:1]):
        _move(branch.blocks[0], region.blocks[0], [])
        _finish(region.blocks[0], scf.YieldOp)
    return list(switch.results)


def _check_signature(fop):
    ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
    for what, types in (("argument", ftype.inputs), ("result", ftype.results)):
        for k, t in enumerate(types):
            try:
                spec_of(t)
            except VerifyError:
                raise PassFailure(f"{what} {k} of @{ir.StringAttr(fop.attributes['sym_name']).value} is {t}, which tg "
                                  "does not have (tensors of f16, bf16, f32, f64, i1, i32 or i64)", fop.location)


def _drop_foreign_attributes(module):
    for holder in [module] + [f.operation for f in functions(module)]:
        for name in list(holder.attributes):
            if name.startswith(FOREIGN_PREFIXES):
                del holder.attributes[name]


@register_pass
@dataclasses.dataclass
class ImportStablehlo(ModulePass):
    name = "tg-import-stablehlo"
    summary = "StableHLO to tg ops (one rule per op), while/case to scf, called functions inlined"

    def run(self, module):
        if stablehlo is None:
            raise PassFailure("the MLIR bindings in use have no StableHLO support (torch-mlir's have)")
        for fop in functions(module):
            _check_signature(fop)
            for block in fop.regions[0].blocks:
                convert_block(block)
        inline_calls(module)
        erase_unused_private(module)
        _drop_foreign_attributes(module)
