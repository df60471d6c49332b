"""Forward mode over a block, control flow included: `jvp_ops` re-emits a block's ops with their
tangents beside them. A loop's tangent loop carries (primal, tangent) for every carry that depends
on a differentiated value (a fixed point over the body); a branch's tangent branches return the
tangents of the results any branch makes active. With no tangents it is a plain clone.

`propagate` is the activity analysis both modes use: which values depend, through differentiable
ops, on the differentiated ones."""

from tgraph.dialect import OPS
from tgraph.dialect import control_flow as cf
from tgraph.dialect.ad import Emitter
from tgraph.support.mlir import ir, scf

from ..base import PassFailure
from .common import clone_primal


# ----------------------------------------------------------------------------- activity
def nested_operands(op):
    """The values the ops inside `op`'s regions use (closures among them), each once, in order."""
    found = {}

    def visit(inner):
        for v in inner.operands:
            found.setdefault(v, None)
        return ir.WalkResult.ADVANCE

    for region in op.regions:
        for block in region.blocks:
            for inner in block.operations:
                inner.operation.walk(visit)
    return list(found)


def propagate(ops, active):
    """Add to `active` the results of `ops` that depend on an active value. A region op is active
    in its float results when an operand or a value used inside is (an over-approximation the
    region op's own rules refine); so is a call in the float results (see calls.py)."""
    for op in ops:
        name = op.operation.name
        if name.startswith("tg."):
            if OPS[name[3:]].differentiable and cf.is_float_value(op.results[0]) and any(v in active for v in op.operands):
                active.add(op.results[0])
        elif name in cf.REGION_OPS or name == "func.call":
            if any(v in active for v in list(op.operands) + nested_operands(op)):
                active.update(r for r in op.results if cf.is_float_value(r))
    return active


def body_ops(block):
    ops = list(block.operations)
    return ops[:-1], ops[-1]


def loop_activity(carry_args, inits_active, body, outer_active, yielded):
    """Which carries of a loop are active: those whose initial value is, and (a fixed point) those
    whose next value depends on an active carry or closure. `yielded(active)` gives the body's
    next carries. Returns (the active carry positions, the body's active set)."""
    positions = {p for p, a in enumerate(inits_active) if a and cf.is_float_value(carry_args[p])}
    while True:
        active = set(outer_active) | {carry_args[p] for p in positions}
        propagate(body, active)
        more = {p for p, v in enumerate(yielded()) if v in active and cf.is_float_value(carry_args[p])}
        if more <= positions:
            return sorted(positions), active
        positions |= more


# ----------------------------------------------------------------------------- the sweep
def clone_op(op, env):
    """Re-emit a region-free op on mapped operands (the scalar glue: arith, tensor)."""
    attrs = {name: op.attributes[name] for name in op.attributes}
    new = ir.Operation.create(op.operation.name, results=[r.type for r in op.results],
                              operands=[env[v] for v in op.operands], attributes=attrs, loc=op.location)
    env.update(zip(op.results, new.results))
    return new


def copy_discardable(old, new):
    for name in (cf.MAX_ITERATIONS, cf.CHECKPOINT):
        if name in old.attributes:
            new.operation.attributes[name] = old.attributes[name]


def jvp_ops(ops, env, tangent):
    """Re-emit `ops` at the insertion point with tangents: `env` maps old values to new ones,
    `tangent` old values to their tangents (absent: a symbolic zero); both are extended."""
    for op in ops:
        name = op.operation.name
        if name.startswith("tg."):
            opdef, attrs, value = clone_primal(op, env)
            env[op.results[0]] = value
            tangents = [tangent.get(v) for v in op.operands]
            if any(t is not None for t in tangents) and cf.is_float_value(value):
                t = opdef.jvp(Emitter(op.location), [env[v] for v in op.operands], tangents, value, **attrs)
                if t is not None:
                    tangent[op.results[0]] = t
        elif name in REGION_RULES:
            with op.location:
                REGION_RULES[name](op, env, tangent)
        elif op.regions and len(op.regions):
            raise PassFailure(f"cannot differentiate through '{name}': tgraph differentiates scf.for, scf.while, "
                              "scf.if, scf.index_switch and func.call", op.location)
        else:
            clone_op(op, env)


def clone_ops(ops, env):
    jvp_ops(ops, env, {})


def _tangent_or_zero(tangent, value, env):
    t = tangent.get(value)
    return t if t is not None else Emitter().zeros_like(env[value])


def _bind(old, new, positions, env, tangent):
    """Map `old` values (a block's arguments, an op's results) to `new`, which holds their primals
    and then the tangents of old[p] for p in `positions`."""
    env.update(zip(old, new))
    tangent.update({old[p]: new[len(old) + k] for k, p in enumerate(positions)})


def _sweep(ops, out, positions, env, tangent):
    """Re-emit a region's ops with tangents (on the region's own copies of env and tangent); returns
    the new values of `out`, then the tangents of out[p] for p in `positions`."""
    jvp_ops(ops, env, tangent)
    return [env[v] for v in out] + [_tangent_or_zero(tangent, out[p], env) for p in positions]


def _jvp_for(op, env, tangent):
    block = op.regions[0].blocks[0]
    body, yield_op = body_ops(block)
    iv, carries = block.arguments[0], list(block.arguments)[1:]
    inits = list(op.operands)[3:]
    positions, _ = loop_activity(carries, [v in tangent for v in inits], body, set(tangent),
                                 lambda: list(yield_op.operands))
    lower, upper, step = (env[v] for v in list(op.operands)[:3])
    new = scf.ForOp(lower, upper, step, [env[v] for v in inits] + [_tangent_or_zero(tangent, inits[p], env)
                                                                   for p in positions])
    copy_discardable(op, new)
    inner_env, inner_tangent = dict(env), dict(tangent)
    inner_env[iv] = new.induction_variable
    _bind(carries, list(new.inner_iter_args), positions, inner_env, inner_tangent)
    with ir.InsertionPoint(new.body):
        scf.YieldOp(_sweep(body, list(yield_op.operands), positions, inner_env, inner_tangent))
    _bind(list(op.results), list(new.results), positions, env, tangent)


def _jvp_while(op, env, tangent):
    before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
    before_ops, condition = body_ops(before)
    after_ops, yield_op = body_ops(after)
    inits = list(op.operands)
    carries, forwarded_args = list(before.arguments), list(after.arguments)
    forwarded = list(condition.operands)[1:]
    # Active carries (before's arguments) and forwarded values (after's arguments, the results):
    # a fixed point through both regions.
    a_pos = {p for p, v in enumerate(inits) if v in tangent and cf.is_float_value(v)}
    while True:
        active = set(tangent) | {carries[p] for p in a_pos}
        propagate(before_ops, active)
        b_pos = {q for q, v in enumerate(forwarded) if v in active and cf.is_float_value(v)}
        active |= {forwarded_args[q] for q in b_pos}
        propagate(after_ops, active)
        more = {p for p, v in enumerate(yield_op.operands) if v in active and cf.is_float_value(v)}
        if more <= a_pos:
            break
        a_pos |= more
    a_pos, b_pos = sorted(a_pos), sorted(b_pos)
    init_values = [env[v] for v in inits] + [_tangent_or_zero(tangent, inits[p], env) for p in a_pos]
    result_types = [r.type for r in op.results] + [op.results[q].type for q in b_pos]
    new = scf.WhileOp(result_types, init_values)
    copy_discardable(op, new)
    new_before = new.before.blocks.append(*[v.type for v in init_values])
    new_after = new.after.blocks.append(*result_types)
    env_b, tan_b = dict(env), dict(tangent)
    _bind(carries, list(new_before.arguments), a_pos, env_b, tan_b)
    with ir.InsertionPoint(new_before):
        values = _sweep(before_ops, forwarded, b_pos, env_b, tan_b)
        scf.ConditionOp(env_b[condition.operands[0]], values)
    env_a, tan_a = dict(env), dict(tangent)
    _bind(forwarded_args, list(new_after.arguments), b_pos, env_a, tan_a)
    with ir.InsertionPoint(new_after):
        scf.YieldOp(_sweep(after_ops, list(yield_op.operands), a_pos, env_a, tan_a))
    _bind(list(op.results), list(new.results), b_pos, env, tangent)


def new_branch_op(op, env, result_types):
    """An scf.if / scf.index_switch like `op` (same condition) with other results; its regions
    have one empty block each."""
    if op.operation.name == "scf.if":
        return scf.IfOp(env[op.operands[0]], result_types, has_else=True)
    new = scf.IndexSwitchOp(result_types, env[op.operands[0]], list(ir.DenseI64ArrayAttr(op.attributes["cases"])))
    for region in new.regions:
        if not len(region.blocks):
            region.blocks.append()
    return new


def _jvp_branches(op, env, tangent):
    regions = [region.blocks[0] for region in op.regions]
    positions = set()
    for block in regions:
        ops, yield_op = body_ops(block)
        active = propagate(ops, set(tangent))
        positions |= {q for q, v in enumerate(yield_op.operands) if v in active and cf.is_float_value(v)}
    positions = sorted(positions)
    new = new_branch_op(op, env, [r.type for r in op.results] + [op.results[q].type for q in positions])
    for block, new_region in zip(regions, new.regions):
        ops, yield_op = body_ops(block)
        with ir.InsertionPoint(new_region.blocks[0]):
            scf.YieldOp(_sweep(ops, list(yield_op.operands), positions, dict(env), dict(tangent)))
    _bind(list(op.results), list(new.results), positions, env, tangent)


REGION_RULES = {"scf.for": _jvp_for, "scf.while": _jvp_while, "scf.if": _jvp_branches,
                 "scf.index_switch": _jvp_branches}
