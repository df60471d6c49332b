"""tg-batch: vmap as a pass. For `@f(x1..xn) -> (y1..ym)` emit `@f_batched`, which computes f
for every lane of a batch at once: argument i carries the batch at axis in-axes[i] (-1: not
batched, shared by every lane), result j at out-axes[j] (-1: must not depend on the batch).

Inside, the batch dimension of a batched value leads (arguments are transposed to put it there)
and each tg op with a batched operand is rewritten by its batching rule (dialect/batching.py),
unbatched values stay as they are. Control flow: a loop's carries are batched where a fixed point
over its body says so; a branch on a shared condition batches its branches; a branch on a
batched condition runs both branches and selects per lane (a select of both results, so both
are computed); a while loop with a batched condition runs until every lane is done, keeping the
carries of the finished lanes (masked)."""

import dataclasses

from tgraph.dialect import OPS, create, spec_of, tensor_type
from tgraph.dialect import control_flow as cf
from tgraph.dialect.ad import Emitter
from tgraph.dialect.batching import lift, move_axis
from tgraph.support.dtypes import TensorSpec
from tgraph.support.mlir import func, ir, scf
from tgraph.support.symbols import lookup, module_of

from .ad import calls
from .ad.common import find_function, insert_function, straight_line_body
from .ad.forward_mode import body_ops, clone_op, copy_discardable, new_branch_op
from .base import ModulePass, PassFailure
from .pipeline import register_pass

UNBATCHED = -1


# ----------------------------------------------------------------------------- analysis
def _flows(ops, batched):
    """Add to `batched` the values of `ops` that depend on a batched one (through every op, not
    only differentiable ones: an i1 mask of a batched value is batched)."""
    for op in ops:
        name = op.operation.name
        if name == "scf.for":
            _for_positions(op, batched)
        elif name == "scf.while":
            _while_positions(op, batched)
        elif name in ("scf.if", "scf.index_switch"):
            _branch_positions(op, batched)
        elif any(v in batched for v in op.operands):
            batched.update(op.results)
    return batched


def _for_positions(op, batched):
    block = op.regions[0].blocks[0]
    body, yield_op = body_ops(block)
    carries, inits = list(block.arguments)[1:], list(op.operands)[3:]
    positions = {p for p, v in enumerate(inits) if v in batched}
    while True:
        inner = _flows(body, set(batched) | {carries[p] for p in positions})
        more = {p for p, v in enumerate(yield_op.operands) if v in inner}
        if more <= positions:
            break
        positions |= more
    batched.update(op.results[p] for p in positions)
    return sorted(positions)


def _while_positions(op, batched):
    """(batched carries, batched forwarded values, whether the condition is batched)."""
    before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
    before_ops, condition = body_ops(before)
    after_ops, yield_op = body_ops(after)
    carries, forwarded_args = list(before.arguments), list(after.arguments)
    forwarded = list(condition.operands)[1:]
    a_pos = {p for p, v in enumerate(op.operands) if v in batched}
    while True:
        inner = _flows(before_ops, set(batched) | {carries[p] for p in a_pos})
        masked = condition.operands[0] in inner
        b_pos = set(range(len(forwarded))) if masked else {q for q, v in enumerate(forwarded) if v in inner}
        inner = _flows(after_ops, inner | {forwarded_args[q] for q in b_pos})
        more = set(range(len(carries))) if masked else {p for p, v in enumerate(yield_op.operands) if v in inner}
        if more <= a_pos:
            break
        a_pos |= more
    batched.update(op.results[q] for q in b_pos)
    return sorted(a_pos), sorted(b_pos), masked


def _branch_positions(op, batched):
    if op.operands[0] in batched:
        positions = set(range(len(op.results)))
    else:
        positions = set()
        for region in op.regions:
            ops, yield_op = body_ops(region.blocks[0])
            inner = _flows(ops, set(batched))
            positions |= {q for q, v in enumerate(yield_op.operands) if v in inner}
    batched.update(op.results[q] for q in positions)
    return sorted(positions)


# ----------------------------------------------------------------------------- emission
@dataclasses.dataclass
class _Batch:
    """What the rewrite of one function knows: the batch size, old -> new values, the batched old
    values, and for batched scalars (a condition, a branch index) their lanes as a tensor."""

    size: int
    env: dict
    batched: set
    lanes: dict

    def inner(self):
        return _Batch(self.size, dict(self.env), set(self.batched), dict(self.lanes))

    def value(self, old, want_batched):
        """The new value of `old`, broadcast along the batch when it must be batched and is not."""
        new = self.env[old]
        if want_batched and old not in self.batched:
            return lift(Emitter(), new, self.size)
        return new

    def batched_type(self, old):
        spec = spec_of(old.type)
        return tensor_type(TensorSpec((self.size,) + spec.shape, spec.dtype))

    def type_of(self, old, batched):
        return self.batched_type(old) if batched else old.type


def batch_ops(ops, state):
    for op in ops:
        name = op.operation.name
        if name.startswith("tg."):
            _batch_tg(op, state)
        elif name in _REGION_RULES:
            _REGION_RULES[name](op, state)
        elif not any(v in state.batched for v in op.operands):
            clone_op(op, state.env)
        else:
            _batch_scalar(op, state)


def _batch_tg(op, state):
    opdef = OPS[op.operation.name[3:]]
    attrs = opdef.decode_attrs(op.operation)
    flags = [v in state.batched for v in op.operands]
    operands = [state.env[v] for v in op.operands]
    if not any(flags):
        value, _ = create(opdef.name, operands, attrs, loc=op.location)
    else:
        if opdef.batch is None:
            raise PassFailure(f"tg.{opdef.name} has no batching rule", op.location)
        with op.location:
            value = opdef.batch(Emitter(op.location), operands, flags, state.size, **attrs)
        state.batched.add(op.results[0])
    state.env[op.results[0]] = value


def _batch_scalar(op, state):
    """A scalar read from a batched rank-0 tensor (a loop or branch condition, a switch index)
    stays a tensor of its lanes, for the region op that uses it; other scalar code on batched
    values has no per-lane form."""
    name = op.operation.name
    source = op.operands[0]
    if name == "tensor.extract" and len(op.operands) == 1:
        state.lanes[op.results[0]] = state.env[source]
    elif name == "arith.index_cast" and source in state.lanes:
        state.lanes[op.results[0]] = state.lanes[source]
    else:
        raise PassFailure(f"'{name}' on a value that differs per lane is not supported by vmap (a loop's trip "
                          "count or an index computed from a batched value); use while_loop for per-lane trip counts",
                          op.location)
    state.batched.add(op.results[0])


def _lanes(state, old, what, loc):
    lanes = state.lanes.get(old)
    if lanes is None:
        raise PassFailure(f"the {what} differs per lane in a way vmap cannot follow", loc)
    return lanes


def _select_lanes(em, lanes, on_true, on_false):
    """Per lane: on_true where the lane's predicate holds (lanes: tensor<B x i1>)."""
    shape = tuple(spec_of(on_true.type).shape)
    return em.select(em.broadcast_in_dim(lanes, dims=(0,), shape=shape), on_true, on_false)


def _batch_for(op, state):
    if any(v in state.batched for v in list(op.operands)[:3]):
        raise PassFailure("vmap of a loop whose bounds differ per lane is not supported; use while_loop "
                          "(its condition may differ per lane)", op.location)
    positions = _for_positions(op, set(state.batched))
    block = op.regions[0].blocks[0]
    body, yield_op = body_ops(block)
    carries, inits = list(block.arguments)[1:], list(op.operands)[3:]
    lower, upper, step = (state.env[v] for v in list(op.operands)[:3])
    new = scf.ForOp(lower, upper, step, [state.value(v, p in positions) for p, v in enumerate(inits)])
    copy_discardable(op, new)
    inner = state.inner()
    inner.env[block.arguments[0]] = new.induction_variable
    inner.env.update(zip(carries, new.inner_iter_args))
    inner.batched.update(carries[p] for p in positions)
    with ir.InsertionPoint(new.body):
        batch_ops(body, inner)
        scf.YieldOp([inner.value(v, p in positions) for p, v in enumerate(yield_op.operands)])
    state.env.update(zip(op.results, new.results))
    state.batched.update(op.results[p] for p in positions)


def _batch_branches(op, state):
    positions = _branch_positions(op, set(state.batched))
    blocks = [region.blocks[0] for region in op.regions]
    if op.operands[0] in state.batched:
        return _select_branches(op, blocks, state)
    new = new_branch_op(op, state.env, [state.type_of(r, q in positions) for q, r in enumerate(op.results)])
    for block, region in zip(blocks, new.regions):
        ops, yield_op = body_ops(block)
        inner = state.inner()
        with ir.InsertionPoint(region.blocks[0]):
            batch_ops(ops, inner)
            scf.YieldOp([inner.value(v, q in positions) for q, v in enumerate(yield_op.operands)])
    state.env.update(zip(op.results, new.results))
    state.batched.update(op.results[q] for q in positions)


def _select_branches(op, blocks, state):
    """A batched condition: every branch runs (on every lane), each lane's result is selected."""
    em = Emitter(op.location)
    lanes = _lanes(state, op.operands[0], "branch condition", op.location)
    results = []
    for block in blocks:
        ops, yield_op = body_ops(block)
        inner = state.inner()
        batch_ops(ops, inner)
        results.append([inner.value(v, True) for v in yield_op.operands])
    if op.operation.name == "scf.if":
        chosen = [_select_lanes(em, lanes, t, f) for t, f in zip(*results)]
    else:  # index_switch: regions are the default, then the cases in order
        cases = list(ir.DenseI64ArrayAttr(op.attributes["cases"]))
        chosen = results[0]
        spec = spec_of(lanes.type)
        for case, values in zip(cases, results[1:]):
            hit = em.compare(lanes, em.splat(value=float(case), shape=spec.shape, dtype=spec.dtype), direction="eq")
            chosen = [_select_lanes(em, hit, v, c) for v, c in zip(values, chosen)]
    state.env.update(zip(op.results, chosen))
    state.batched.update(op.results)


def _batch_while(op, state):
    a_pos, b_pos, masked = _while_positions(op, set(state.batched))
    before, after = op.regions[0].blocks[0], op.regions[1].blocks[0]
    before_ops, condition = body_ops(before)
    after_ops, yield_op = body_ops(after)
    carries, forwarded_args = list(before.arguments), list(after.arguments)
    inits = [state.value(v, p in a_pos) for p, v in enumerate(op.operands)]
    forwarded_types = [state.type_of(r, q in b_pos) for q, r in enumerate(op.results)]
    extra = []  # masked: the carries and the lanes still running, passed on to the body
    if masked:
        extra = [v.type for v in inits] + [ir.RankedTensorType.get([state.size], ir.IntegerType.get_signless(1))]
    new = scf.WhileOp(forwarded_types + extra, inits)
    copy_discardable(op, new)
    new_before = new.before.blocks.append(*[v.type for v in inits])
    new_after = new.after.blocks.append(*(forwarded_types + extra))
    inner = state.inner()
    inner.env.update(zip(carries, new_before.arguments))
    inner.batched.update(carries[p] for p in a_pos)
    with ir.InsertionPoint(new_before):
        batch_ops(before_ops, inner)
        values = [inner.value(v, q in b_pos) for q, v in enumerate(list(condition.operands)[1:])]
        keep_going = inner.env.get(condition.operands[0])
        if masked:
            em = Emitter(condition.location)
            lanes = _lanes(inner, condition.operands[0], "loop condition", condition.location)
            count = em.reduce_max(em.cast(lanes, dtype="i32"), axes=(0,))
            any_lane = em.compare(count, em.splat(value=0.0, shape=(), dtype="i32"), direction="gt")
            keep_going = cf.tensor_as_condition(any_lane)
            values += list(new_before.arguments) + [lanes]
        scf.ConditionOp(keep_going, values)
    inner = state.inner()
    after_args = list(new_after.arguments)
    inner.env.update(zip(forwarded_args, after_args))
    inner.batched.update(forwarded_args[q] for q in b_pos)
    with ir.InsertionPoint(new_after):
        batch_ops(after_ops, inner)
        nexts = [inner.value(v, p in a_pos) for p, v in enumerate(yield_op.operands)]
        if masked:  # finished lanes keep their carries
            em = Emitter(yield_op.location)
            old, lanes = after_args[len(forwarded_types):-1], after_args[-1]
            nexts = [_select_lanes(em, lanes, n, o) for n, o in zip(nexts, old)]
        scf.YieldOp(nexts)
    state.env.update(zip(op.results, list(new.results)[:len(op.results)]))
    state.batched.update(op.results[q] for q in b_pos)


def _batched_function(module, name, size, loc):
    """@name batched along a leading axis of every argument and result (made once per size, private)."""
    batched_name = f"{name}_batched{size}"
    if lookup(module, batched_name) is None:
        fop = lookup(module, name)
        if fop is None:
            raise PassFailure(f"vmap of a call of @{name}: the module has no such function", loc)
        ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
        Batch(func=name, in_axes=(0,) * len(ftype.inputs), out_axes=(0,) * len(ftype.results), size=size,
              out=batched_name).run(module)
        lookup(module, batched_name).attributes["sym_visibility"] = ir.StringAttr.get("private")
    return ir.FlatSymbolRefAttr.get(batched_name)


def _batch_call(op, state):
    """A call with a batched operand calls the callee batched in every argument, and so its custom
    rules (batched the same way: their arguments and results are the callee's and their derivatives)."""
    if not any(v in state.batched for v in op.operands):
        clone_op(op, state.env)
        return
    module = module_of(op)
    loc = op.location
    operands = [state.value(v, True) for v in op.operands]
    new = func.CallOp([state.batched_type(r) for r in op.results],
                      _batched_function(module, calls.symbol(op.attributes["callee"]), state.size, loc), operands, loc=loc)
    for name in op.attributes:
        if name == calls.CUSTOM_JVP:
            new.attributes[name] = _batched_function(module, calls.symbol(op.attributes[name]), state.size, loc)
        elif name == calls.CUSTOM_VJP:
            new.attributes[name] = ir.ArrayAttr.get([_batched_function(module, calls.symbol(a), state.size, loc)
                                                     for a in ir.ArrayAttr(op.attributes[name])])
        elif name != "callee":
            new.attributes[name] = op.attributes[name]
    state.env.update(zip(op.results, new.results))
    state.batched.update(op.results)


_REGION_RULES = {"scf.for": _batch_for, "scf.while": _batch_while, "scf.if": _batch_branches,
                 "scf.index_switch": _batch_branches, "func.call": _batch_call}


# ----------------------------------------------------------------------------- the pass
def _inserted(shape, axis, size):
    return tuple(shape[:axis]) + (size,) + tuple(shape[axis:])


@register_pass
@dataclasses.dataclass
class Batch(ModulePass):
    name = "tg-batch"
    summary = "vmap: emit @f_batched computing @f for every lane of a batch"

    func: str = dataclasses.field(default="", metadata={"help": "function to batch (default: the first)"})
    in_axes: tuple[int, ...] = dataclasses.field(default=(), metadata={
        "help": "batch axis of each argument, -1 for an unbatched one (default: 0 for every argument)",
        "min": UNBATCHED})
    out_axes: tuple[int, ...] = dataclasses.field(default=(), metadata={
        "help": "batch axis of each result, -1 for one that must not be batched (default: 0)", "min": UNBATCHED})
    size: int = dataclasses.field(default=0, metadata={"help": "the batch size (required)", "min": 0})
    out: str = dataclasses.field(default="", metadata={"help": "name of the generated function (default: <func>_batched)"})

    def run(self, module):
        fop = find_function(module, self.func)
        name = ir.StringAttr(fop.attributes["sym_name"]).value
        block = straight_line_body(fop)
        args = list(block.arguments)
        ret = list(block.operations)[-1]
        outputs = list(ret.operands)
        in_axes = self._axes(self.in_axes, len(args), "in-axes", "arguments", fop)
        out_axes = self._axes(self.out_axes, len(outputs), "out-axes", "results", fop)
        specs = [spec_of(a.type) for a in args]
        for i, (axis, spec) in enumerate(zip(in_axes, specs)):
            if axis > spec.rank:
                raise PassFailure(f"in-axes[{i}] = {axis} is out of range for argument {i} of rank {spec.rank} "
                                  f"(the batched argument has rank {spec.rank + 1})", fop.location)
        size = self.size
        if not size:  # the function's types are one lane's: they do not say how many lanes
            raise PassFailure("give the batch size (size=N)", fop.location)
        in_types = [a.type if axis == UNBATCHED else tensor_type(TensorSpec(_inserted(s.shape, axis, size), s.dtype))
                    for a, axis, s in zip(args, in_axes, specs)]
        out_specs = [spec_of(v.type) for v in outputs]
        for j, (axis, spec) in enumerate(zip(out_axes, out_specs)):
            if axis > spec.rank:
                raise PassFailure(f"out-axes[{j}] = {axis} is out of range for result {j} of rank {spec.rank}", fop.location)
        out_types = [v.type if axis == UNBATCHED else tensor_type(TensorSpec(_inserted(s.shape, axis, size), s.dtype))
                     for v, axis, s in zip(outputs, out_axes, out_specs)]
        new, entry = insert_function(module, fop, self.out or f"{name}_batched", in_types, out_types)
        with ir.InsertionPoint(entry):
            em = Emitter(fop.location)
            state = _Batch(size, {}, set(), {})
            for arg, new_arg, axis in zip(args, entry.arguments, in_axes):
                state.env[arg] = new_arg if axis == UNBATCHED else move_axis(em, new_arg, axis, 0)
                if axis != UNBATCHED:
                    state.batched.add(arg)
            batch_ops(list(block.operations)[:-1], state)
            results = []
            for j, (v, axis) in enumerate(zip(outputs, out_axes)):
                if axis == UNBATCHED:
                    if v in state.batched:
                        raise PassFailure(f"result {j} of @{name} depends on the batch, but its out-axes entry "
                                          "is -1 (None): give it a batch axis", ret.location)
                    results.append(state.env[v])
                else:
                    results.append(move_axis(em, state.value(v, True), 0, axis))
            func.ReturnOp(results, loc=ret.location)

    @staticmethod
    def _axes(axes, n, option, what, fop):
        if not axes:
            return [0] * n
        if len(axes) != n:
            raise PassFailure(f"{option} has {len(axes)} entries but the function has {n} {what}", fop.location)
        return list(axes)
