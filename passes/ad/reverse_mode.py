"""Reverse mode over a block, control flow included.

`forward` re-emits a block's ops (the primal sweep) and returns a record per op that the reverse
sweep needs; `reverse` walks the records backwards, asking each op's VJP rule for its operands'
cotangents and accumulating fan-out. Region ops:

- scf.for (scan, fori_loop): the primal loop also stacks the carries the body reads into a tape
  (`tape[k] = carry at the start of step k`; not the stacks a scan writes its ys into, which the
  body only writes). The reverse loop runs the steps backwards: it reads step k's carry from the
  tape, recomputes that step's body and runs its reverse sweep, carrying the carries' cotangents
  and the accumulated cotangents of the values the body closes over. With `tg.checkpoint = k` the
  tape holds every k-th carry only; each segment of k steps is recomputed into a tape of k slots
  before its reverse loop (memory O(T/k + k) carries instead of O(T)).
- scf.while with `tg.max_iterations = m`: the same, the tape m slots deep and the trip count
  recorded by the primal loop. Without the bound there is no tape size: an error says so.
- func.call (custom rules, checkpoints): see calls.py.
- scf.if / scf.index_switch: a branch op of the same kind on the same condition runs the taken
  branch's recomputation and reverse sweep; it returns the cotangents of the values it closes over.

Cotangents of a gather at one (scalar) index accumulate into their row with set_row, so a loop
that reads row k of a closure writes its cotangent into row k of the accumulator (in place after
bufferization), not a scatter of a whole table per step."""

import dataclasses

from tgraph.dialect import OPS, OpDef
from tgraph.dialect import control_flow as cf
from tgraph.dialect.ad import Emitter, add_any
from tgraph.support.mlir import arith, ir, scf

from ..base import PassFailure
from .common import clone_primal
from .forward_mode import body_ops, clone_op, clone_ops, copy_discardable, loop_activity, nested_operands, new_branch_op, propagate


@dataclasses.dataclass
class Record:
    op: object  # the original op
    rule: object  # how to reverse it: an OpDef, or a region op's reverse function
    data: object = None  # attributes of a tg op; what a region op's forward saved


def forward(ops, env, active, saved=None):
    """The primal sweep of `ops` at the insertion point; returns the records for `reverse`.
    `saved` maps results of some of the tg ops to values computed before (a checkpoint's kept
    dots): those ops are recorded but not emitted again."""
    records = []
    for op in ops:
        name = op.operation.name
        if saved and op.results and op.results[0] in saved:
            opdef = OPS[name[3:]]
            env[op.results[0]] = saved[op.results[0]]
            if op.results[0] in active:
                records.append(Record(op, opdef, opdef.decode_attrs(op.operation)))
        elif name.startswith("tg."):
            opdef, attrs, value = clone_primal(op, env)
            env[op.results[0]] = value
            if op.results[0] in active:
                records.append(Record(op, opdef, attrs))
        elif name in REGION_RULES and any(r in active for r in op.results):
            fwd, rev = REGION_RULES[name]
            with op.location:
                records.append(Record(op, rev, fwd(op, env, active)))
        elif name in REGION_RULES:
            clone_ops([op], env)
        else:
            clone_op(op, env)
    return records


def reverse(records, env, active, ct):
    """The reverse sweep: `ct` maps original values to cotangents (absent: zero) and is updated
    with the cotangents of the values the records read."""
    for record in reversed(records):
        op = record.op
        if isinstance(record.rule, OpDef):
            cotangent = ct.pop(op.results[0], None)
            if cotangent is None:
                continue
            em = Emitter(op.location)
            operands = list(op.operands)
            if record.rule.name == "gather" and _scalar(operands[1]) and operands[0] in ct and operands[0] in active:
                ct[operands[0]] = _add_to_row(em, ct[operands[0]], cotangent, env[operands[1]])
                continue
            mask = [v in active for v in operands]
            cts = record.rule.vjp(em, [env[v] for v in operands], mask, cotangent, env[op.results[0]], **record.data)
            for v, c in zip(operands, cts):
                if c is not None:
                    ct[v] = add_any(em, ct.get(v), c)
        else:
            with op.location:
                record.rule(op, record.data, env, active, ct)


def _scalar(value):
    return list(ir.RankedTensorType(value.type).shape) == []


def _add_to_row(em, table_ct, row_ct, index):
    return em.set_row(table_ct, em.add(em.gather(table_ct, index), row_ct), index)


def _closures(op, active):
    """The active values defined outside `op` that its regions use."""
    inside = set()

    def visit(inner):
        inside.update(inner.results)
        for region in inner.regions:
            for block in region.blocks:
                inside.update(block.arguments)
        return ir.WalkResult.ADVANCE

    op.operation.walk(visit)
    return [v for v in nested_operands(op) if v in active and v not in inside]


def _zeros(value):
    """Zeros of a value's type (an original value's: only its type is read)."""
    return Emitter().zeros_like(value)


# ----------------------------------------------------------------------------- loops
@dataclasses.dataclass
class LoopTape:
    body: list  # the body's ops (without its terminator)
    yield_op: object
    carries: list  # the body's carry arguments
    induction: object  # the body's induction variable (None for a while loop)
    lower: object  # scf.for: the mapped lower bound and step, to recompute the induction variable
    step: object
    steps: object  # trip count: an index Value
    bound: int  # a static bound on it: the tape's slots
    taped: list  # carry positions read from the tape
    tapes: list  # their tapes (one row per step, or per segment with a checkpoint)
    active_carries: list
    checkpoint: int  # 1: every step's carry is on the tape


def _write_only(arg, p):
    """Whether carry p (the body's argument `arg`) is only ever written (set_row chains into its
    own next value, as a scan's stacked ys): then the reverse sweep needs no tape for it."""
    uses = list(arg.uses)
    while len(uses) == 1:
        user = uses[0].owner
        if user.name == "scf.yield":
            return uses[0].operand_number == p
        if user.name != "tg.set_row" or uses[0].operand_number != 0:
            return False
        value = user.results[0]
        uses = list(value.uses)
    return False


def _forward_for(op, env, active):
    block = op.regions[0].blocks[0]
    body, yield_op = body_ops(block)
    iv, carries = block.arguments[0], list(block.arguments)[1:]
    inits = list(op.operands)[3:]
    lower, upper, step = (cf.constant_index(v) for v in list(op.operands)[:3])
    if step is None or step <= 0:
        raise PassFailure("reverse mode through scf.for needs a constant positive step", op.location)
    if None in (lower, upper):  # a loop of the reverse sweep itself (differentiated again): bounded
        steps = cf.int_attribute(op, cf.MAX_ITERATIONS)
        if steps is None:
            raise PassFailure("reverse mode through scf.for needs constant bounds or a tg.max_iterations "
                              "attribute (the tape's size)", op.location)
        checkpoint = 1
    else:
        steps = max(0, -(-(upper - lower) // step))
        checkpoint = max(1, min(cf.int_attribute(op, cf.CHECKPOINT) or 1, max(steps, 1)))
    active_carries, _ = loop_activity(carries, [v in active for v in inits], body, active,
                                      lambda: list(yield_op.operands))
    taped = [p for p, arg in enumerate(carries) if not _write_only(arg, p)]
    slots = -(-steps // checkpoint)
    em = Emitter()
    tape_inits = [em.splat(value=0.0, shape=(max(slots, 1),) + tuple(ir.RankedTensorType(carries[p].type).shape),
                           dtype=str(ir.RankedTensorType(carries[p].type).element_type)) for p in taped]
    new = scf.ForOp(*(env[v] for v in list(op.operands)[:3]), [env[v] for v in inits] + tape_inits)
    copy_discardable(op, new)
    args = list(new.inner_iter_args)
    inner = dict(env)
    inner[iv] = new.induction_variable
    inner.update(zip(carries, args))
    with ir.InsertionPoint(new.body):
        k = arith.DivSIOp(arith.SubIOp(new.induction_variable, env[op.operands[0]]).result,
                          env[op.operands[2]]).result
        tapes = [args[len(carries) + t] for t in range(len(taped))]
        if checkpoint == 1:
            at = cf.index_as_tensor(k)
            tapes = [em.set_row(tape, args[p], at) for tape, p in zip(tapes, taped)]
        elif tapes:  # row k // checkpoint holds the carry of the segment's first step: a select, not a branch
            at = cf.index_as_tensor(arith.DivSIOp(k, cf.index_constant(checkpoint)).result)
            first = cf.index_as_tensor(arith.RemSIOp(k, cf.index_constant(checkpoint)).result)
            starts = em.compare(first, em.splat(value=0.0, shape=(), dtype=cf.INDEX_DTYPE), direction="eq")
            rows = []
            for tape, p in zip(tapes, taped):
                carry = args[p]
                shape = tuple(ir.RankedTensorType(carry.type).shape)
                chosen = em.select(em.broadcast_in_dim(starts, shape=shape, dims=()), carry, em.gather(tape, at))
                rows.append(em.set_row(tape, chosen, at))
            tapes = rows
        clone_ops(body, inner)
        scf.YieldOp([inner[v] for v in yield_op.operands] + tapes)
    results = list(new.results)
    env.update(zip(op.results, results))
    lower_value, upper_value = env[op.operands[0]], env[op.operands[1]]
    if None in (lower, upper):  # the trip count at run time: ceil((upper - lower) / step), at least 0
        span = arith.SubIOp(upper_value, lower_value).result
        count = arith.DivSIOp(arith.AddIOp(span, cf.index_constant(step - 1)).result, cf.index_constant(step)).result
        count = arith.MaxSIOp(count, cf.index_constant(0)).result
    else:
        count = cf.index_constant(steps)
    return LoopTape(body, yield_op, carries, iv, lower_value, env[op.operands[2]], count, steps, taped,
                    results[len(carries):], active_carries, checkpoint)


def _forward_while(op, env, active):
    bound = cf.int_attribute(op, cf.MAX_ITERATIONS)
    if bound is None:
        raise PassFailure("reverse mode through a while loop needs its number of iterations bounded: pass "
                          "max_iterations=... to tgraph.while_loop (the tape of the reverse sweep has that many slots)",
                          op.location)
    before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
    before_ops, condition = body_ops(before)
    body, yield_op = body_ops(after)
    if list(condition.operands)[1:] != list(before.arguments):
        raise PassFailure("reverse mode through scf.while needs its condition to forward the loop's values "
                          "unchanged (as tgraph.while_loop builds it)", op.location)
    inits, carries = list(op.operands), list(after.arguments)
    if not all(cf.is_tensor(c) for c in carries):
        raise PassFailure("reverse mode through scf.while needs tensor carries (the tape stacks them)", op.location)
    active_carries, _ = loop_activity(carries, [v in active for v in inits], body, active,
                                      lambda: list(yield_op.operands))
    taped = list(range(len(carries)))
    em = Emitter()
    tape_inits = [em.splat(value=0.0, shape=(max(bound, 1),) + tuple(ir.RankedTensorType(c.type).shape),
                           dtype=str(ir.RankedTensorType(c.type).element_type)) for c in carries]
    init_values = [env[v] for v in inits] + tape_inits + [em.splat(value=0.0, shape=(), dtype=cf.INDEX_DTYPE)]
    types = [v.type for v in init_values]
    new = scf.WhileOp(types, init_values)
    copy_discardable(op, new)
    new_before, new_after = new.before.blocks.append(*types), new.after.blocks.append(*types)
    n = len(carries)
    env_b = dict(env)
    env_b.update(zip(before.arguments, list(new_before.arguments)[:n]))
    with ir.InsertionPoint(new_before):
        clone_ops(before_ops, env_b)
        count = new_before.arguments[len(types) - 1]
        below = em.compare(count, em.splat(value=float(bound), shape=(), dtype=cf.INDEX_DTYPE), direction="lt")
        go = arith.AndIOp(env_b[condition.operands[0]], cf.tensor_as_condition(below)).result
        scf.ConditionOp(go, list(new_before.arguments))
    args = list(new_after.arguments)
    env_a = dict(env)
    env_a.update(zip(carries, args[:n]))
    with ir.InsertionPoint(new_after):
        tapes = [em.set_row(tape, carry, args[-1]) for tape, carry in zip(args[n:-1], args[:n])]
        clone_ops(body, env_a)
        scf.YieldOp([env_a[v] for v in yield_op.operands] + tapes +
                    [em.add(args[-1], em.splat(value=1.0, shape=(), dtype=cf.INDEX_DTYPE))])
    results = list(new.results)
    env.update(zip(op.results, results[:n]))
    return LoopTape(body, yield_op, carries, None, None, None, cf.tensor_as_index(results[-1]), bound, taped,
                    results[n:-1], active_carries, 1)


def _reverse_loop(op, tape, env, active, ct):
    """The reverse loop of a loop's primal sweep recorded in `tape`."""
    closures = _closures(op, active)
    result_cts = [ct.pop(op.results[p], None) for p in tape.active_carries]
    if all(c is None for c in result_cts):  # no output depends on the loop
        return
    init_cts = [c if c is not None else _zeros(op.results[p]) for c, p in zip(result_cts, tape.active_carries)]
    accumulators = [ct.pop(c) if c in ct else _zeros(c) for c in closures]
    placeholders = {p: _zeros(tape.carries[p]) for p in range(len(tape.carries)) if p not in tape.taped}
    n_ct = len(init_cts)

    def reverse_steps(count, bound, first, read_carry, states):
        """A loop over steps first + count - 1 down to `first`, carrying `states` (the carries'
        cotangents, then the closures' accumulators); read_carry(p, row) reads carry p of the
        step at `row` of the tape (counted from `first`). Returns the final states."""
        loop = scf.ForOp(cf.index_constant(0), count, cf.index_constant(1), states)
        if cf.constant_index(count) is None:  # differentiated again, its tape needs this bound
            loop.operation.attributes[cf.MAX_ITERATIONS] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), bound)
        with ir.InsertionPoint(loop.body):
            row = arith.SubIOp(arith.SubIOp(count, cf.index_constant(1)).result, loop.induction_variable).result
            at = cf.index_as_tensor(row)
            inner = dict(env)
            if tape.induction is not None:
                step = arith.AddIOp(first, row).result if first is not None else row
                inner[tape.induction] = arith.AddIOp(tape.lower, arith.MulIOp(step, tape.step).result).result
            for p, carry in enumerate(tape.carries):
                inner[carry] = read_carry(p, at) if p in tape.taped else placeholders[p]
            inner_active = set(active) | {tape.carries[p] for p in tape.active_carries}
            propagate(tape.body, inner_active)
            records = forward(tape.body, inner, inner_active)
            states_in = list(loop.inner_iter_args)
            inner_ct = dict(zip(closures, states_in[n_ct:]))
            em = Emitter()
            for p, c in zip(tape.active_carries, states_in[:n_ct]):
                v = tape.yield_op.operands[p]
                if v in inner_active or v in closures:
                    inner_ct[v] = add_any(em, inner_ct.get(v), c)
            reverse(records, inner, inner_active, inner_ct)
            scf.YieldOp([inner_ct.get(tape.carries[p]) or _zeros(tape.carries[p]) for p in tape.active_carries]
                        + [inner_ct[c] for c in closures])
        return list(loop.results)

    states = init_cts + accumulators
    if tape.checkpoint == 1:
        states = reverse_steps(tape.steps, tape.bound, None, lambda p, at: Emitter().gather(tape.tapes[tape.taped.index(p)], at),
                               states)
    else:
        states = _reverse_segments(tape, env, states, reverse_steps, placeholders)
    ct.update(zip(closures, states[n_ct:]))  # the accumulators started from the closures' cotangents
    for (p, c) in zip(tape.active_carries, states[:n_ct]):
        init = op.operands[p + 3] if op.operation.name == "scf.for" else op.operands[p]
        if init in active:  # an initial value may be a closure as well: added to its accumulator
            ct[init] = add_any(Emitter(), ct.get(init), c)


def _reverse_segments(tape, env, states, reverse_steps, placeholders):
    """Checkpointed: segments of `tape.checkpoint` steps, last first; each recomputes its carries
    from the saved one into a tape of one segment, then runs its steps backwards."""
    k, steps = tape.checkpoint, cf.constant_index(tape.steps)
    segments = -(-steps // k)
    em = Emitter()
    outer = scf.ForOp(cf.index_constant(0), cf.index_constant(segments), cf.index_constant(1), states)
    with ir.InsertionPoint(outer.body):
        s = arith.SubIOp(cf.index_constant(segments - 1), outer.induction_variable).result
        first = arith.MulIOp(s, cf.index_constant(k)).result
        length = arith.MinSIOp(cf.index_constant(k), arith.SubIOp(cf.index_constant(steps), first).result).result
        at = cf.index_as_tensor(s)
        saved = [em.gather(t, at) for t in tape.tapes]
        local = [em.splat(value=0.0, shape=(k,) + tuple(ir.RankedTensorType(tape.carries[p].type).shape),
                          dtype=str(ir.RankedTensorType(tape.carries[p].type).element_type)) for p in tape.taped]
        # Recompute the segment's carries (the placeholders stand in for write-only ones).
        recompute = scf.ForOp(cf.index_constant(0), length, cf.index_constant(1), saved + local)
        recompute.operation.attributes[cf.MAX_ITERATIONS] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), k)
        with ir.InsertionPoint(recompute.body):
            args = list(recompute.inner_iter_args)
            j = recompute.induction_variable
            step_at = cf.index_as_tensor(j)
            carries, local_tapes = args[:len(saved)], args[len(saved):]
            local_tapes = [em.set_row(t, c, step_at) for t, c in zip(local_tapes, carries)]
            inner = dict(env)
            by_position = dict(zip(tape.taped, carries))
            for p, carry in enumerate(tape.carries):
                inner[carry] = by_position[p] if p in by_position else placeholders[p]
            if tape.induction is not None:
                step_k = arith.AddIOp(first, j).result
                inner[tape.induction] = arith.AddIOp(tape.lower, arith.MulIOp(step_k, tape.step).result).result
            clone_ops(tape.body, inner)
            scf.YieldOp([inner[tape.yield_op.operands[p]] for p in tape.taped] + local_tapes)
        segment_tapes = list(recompute.results)[len(saved):]
        results = reverse_steps(length, k, first, lambda p, at: em.gather(segment_tapes[tape.taped.index(p)], at),
                                list(outer.inner_iter_args))
        scf.YieldOp(results)
    return list(outer.results)


# ----------------------------------------------------------------------------- branches
def _forward_branches(op, env, active):
    clone_ops([op], env)


def _reverse_branches(op, _, env, active, ct):
    closures = _closures(op, active)
    result_cts = {op.results[q]: ct.pop(op.results[q]) for q in range(len(op.results)) if op.results[q] in ct}
    if not result_cts or not closures:
        return
    incoming = {c: ct.pop(c) for c in closures if c in ct}
    new = new_branch_op(op, env, [c.type for c in closures])
    for region, new_region in zip(op.regions, new.regions):
        ops, yield_op = body_ops(region.blocks[0])
        inner, inner_ct = dict(env), dict(incoming)
        with ir.InsertionPoint(new_region.blocks[0]):
            inner_active = propagate(ops, set(active))
            records = forward(ops, inner, inner_active)
            em = Emitter()
            for q, v in enumerate(yield_op.operands):
                c = result_cts.get(op.results[q])
                if c is not None and (v in inner_active or v in closures):
                    inner_ct[v] = add_any(em, inner_ct.get(v), c)
            reverse(records, inner, inner_active, inner_ct)
            scf.YieldOp([inner_ct.get(c) or _zeros(c) for c in closures])
    ct.update(zip(closures, new.results))


REGION_RULES = {"scf.for": (_forward_for, _reverse_loop), "scf.while": (_forward_while, _reverse_loop),
                 "scf.if": (_forward_branches, _reverse_branches),
                 "scf.index_switch": (_forward_branches, _reverse_branches)}
