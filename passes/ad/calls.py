"""Calls in differentiated code: a func.call to a function of the module, and the rules that
tgraph.custom_jvp, custom_vjp and checkpoint attach to one (attributes naming private functions
of the module, so every rule is IR one can print):

- a plain call: differentiated through, its callee's body re-emitted in place.
- `tg.custom_jvp = @rule`, `rule(x..., dx...) -> (y..., dy...)`: forward mode inlines the rule;
  reverse mode transposes it (it must be linear in dx): the reverse sweep of its body from the
  cotangents of dy gives those of dx.
- `tg.custom_vjp = [@fwd, @bwd]`, `fwd(x...) -> (y..., residuals...)` and
  `bwd(residuals..., ct_y...) -> (ct_x...)`: reverse mode inlines fwd in the forward sweep and bwd
  in the reverse sweep; forward mode transposes bwd (it must be linear in ct_y): dy = bwd^T(dx).
- `tg.checkpoint_policy = "nothing" | "dots"`: the forward sweep runs the callee keeping nothing
  for the reverse sweep, which recomputes it from its arguments (behind tg.optimization_barrier,
  so no CSE merges the recomputation back into the forward values); "dots" keeps the results of
  its dot_generals (JAX's dots_saveable) and recomputes the rest.

A transposition is the reverse sweep of a linear function; `check_linear` proves the function
linear first (through the op records' `linear_in`), since the sweep of a nonlinear one would be
a wrong answer, not an error."""

from tgraph.dialect import OPS
from tgraph.dialect.ad import Emitter, add_any, is_linear
from tgraph.dialect import control_flow as cf
from tgraph.support.mlir import ir
from tgraph.support.symbols import lookup, module_of

from ..base import PassFailure
from . import forward_mode, reverse_mode
from .forward_mode import clone_op, clone_ops, jvp_ops, propagate

CUSTOM_JVP, CUSTOM_VJP, CHECKPOINT_POLICY = "tg.custom_jvp", "tg.custom_vjp", "tg.checkpoint_policy"
POLICIES = ("nothing", "dots")


# ----------------------------------------------------------------------------- the callees
def symbol(attr):
    return ir.FlatSymbolRefAttr(attr).value


def function(call, name):
    fop = lookup(module_of(call), name)
    if fop is None or not len(fop.regions[0].blocks):
        raise PassFailure(f"cannot differentiate a call of @{name}: the module has no body for it", call.location)
    return fop


def callee(call):
    return function(call, symbol(call.attributes["callee"]))


def rules_of(call):
    """The names of the private functions a call's custom rule refers to."""
    attrs = call.attributes
    if CUSTOM_JVP in attrs:
        return [symbol(attrs[CUSTOM_JVP])]
    if CUSTOM_VJP in attrs:
        return [symbol(a) for a in ir.ArrayAttr(attrs[CUSTOM_VJP])]
    return []


def policy_of(call):
    return ir.StringAttr(call.attributes[CHECKPOINT_POLICY]).value if CHECKPOINT_POLICY in call.attributes else None


def body_of(fop):
    ops = list(fop.regions[0].blocks[0].operations)
    return list(fop.regions[0].blocks[0].arguments), ops[:-1], list(ops[-1].operands)


def inline(fop, values):
    """Re-emit fop's body on `values` at the insertion point; returns its results."""
    args, body, outs = body_of(fop)
    env = dict(zip(args, values))
    clone_ops(body, env)
    return [env[v] for v in outs]


def _name(fop):
    return ir.StringAttr(fop.attributes["sym_name"]).value


# ----------------------------------------------------------------------------- linearity
def _is_zero(value):
    owner = value.owner
    if isinstance(owner, ir.Block) or owner.name != "tg.splat":
        return False
    return OPS["splat"].decode_attrs(owner)["value"] == 0.0


def check_linear(fop, positions, what):
    """The values of fop's body that depend linearly on its arguments at `positions` (and on
    nothing else varying with them); a PassFailure naming the op that is not linear in them."""
    args, body, _ = body_of(fop)
    linear = {args[i] for i in positions}
    for op in body:
        name = op.operation.name
        operands = list(op.operands)
        flags = [v in linear for v in operands]
        if not any(flags) and not (op.regions and any(v in linear for v in forward_mode.nested_operands(op))):
            continue
        if name.startswith("tg."):
            opdef = OPS[name[3:]]
            attrs = opdef.decode_attrs(op.operation)
            with_zeros = [f or _is_zero(v) for f, v in zip(flags, operands)]
            if opdef.differentiable and (is_linear(opdef, flags, attrs) or is_linear(opdef, with_zeros, attrs)):
                linear.add(op.results[0])
                continue
            used = ", ".join(f"operand {i}" for i, f in enumerate(flags) if f)
            raise PassFailure(f"{what}: {name} is not linear in its {used}, which depend(s) on them", op.location)
        if name == "func.call":
            inner = callee(op)
            inner_linear = check_linear(inner, [i for i, f in enumerate(flags) if f], what)
            outs = body_of(inner)[2]
            linear.update(r for r, v in zip(op.results, outs) if v in inner_linear)
            continue
        raise PassFailure(f"{what}: '{name}' uses them, and tgraph checks linearity through tg ops and calls "
                          "only (no loops, branches or scalar code on them)", op.location)
    return linear


def transpose(fop, values, positions, seeds, what):
    """The transpose of fop, linear in its arguments at `positions` (the others take `values`),
    applied to `seeds` (one per result, None for zero): the cotangents of those arguments (None
    for zero), by the reverse sweep of its body, emitted at the insertion point."""
    check_linear(fop, positions, what)
    args, body, outs = body_of(fop)
    em = Emitter()
    env = {a: (em.zeros_like(a) if i in positions else values[i]) for i, a in enumerate(args)}
    active = propagate(body, {args[i] for i in positions})
    records = reverse_mode.forward(body, env, active)
    ct = {}
    for out, seed in zip(outs, seeds):
        if seed is not None and out in active:
            ct[out] = add_any(em, ct.get(out), seed)
    reverse_mode.reverse(records, env, active, ct)
    return [ct.get(args[i]) for i in positions]


# ----------------------------------------------------------------------------- forward mode
def _float(value):
    return cf.is_float_value(value)


def jvp_call(op, env, tangent):
    operands = list(op.operands)
    tangents = [tangent.get(v) for v in operands]
    if all(t is None for t in tangents):
        clone_op(op, env)
        return
    primals = [env[v] for v in operands]
    results = list(op.results)
    n = len(results)
    em = Emitter()
    attrs = op.attributes
    if CUSTOM_JVP in attrs:
        rule = function(op, symbol(attrs[CUSTOM_JVP]))
        outs = inline(rule, primals + [t if t is not None else em.zeros_like(p) for t, p in zip(tangents, primals)])
        env.update(zip(results, outs[:n]))
        tangent.update({r: t for r, t in zip(results, outs[n:]) if _float(r)})
    elif CUSTOM_VJP in attrs:
        fwd, bwd = (function(op, name) for name in rules_of(op))
        outs = inline(fwd, primals)
        env.update(zip(results, outs[:n]))
        residuals = outs[n:]
        k = len(residuals)
        what = (f"forward mode through the custom_vjp function @{symbol(attrs['callee'])} transposes its bwd "
                f"rule @{_name(bwd)}, which must be linear in the cotangents")
        dys = transpose(bwd, residuals + [None] * n, list(range(k, k + n)), tangents, what)
        tangent.update({r: t for r, t in zip(results, dys) if t is not None and _float(r)})
    else:  # a plain or checkpointed call: its body, differentiated in place
        args, body, outs = body_of(callee(op))
        inner_env, inner_tangent = dict(zip(args, primals)), {a: t for a, t in zip(args, tangents) if t is not None}
        jvp_ops(body, inner_env, inner_tangent)
        env.update(zip(results, [inner_env[v] for v in outs]))
        tangent.update({r: inner_tangent[v] for r, v in zip(results, outs) if v in inner_tangent})


# ----------------------------------------------------------------------------- reverse mode
def forward_call(op, env, active):
    """The forward sweep of a call some active value depends on; returns what its reverse needs."""
    operands, results = list(op.operands), list(op.results)
    primals = [env[v] for v in operands]
    n = len(results)
    attrs = op.attributes
    if CUSTOM_VJP in attrs:
        fwd = function(op, rules_of(op)[0])
        outs = inline(fwd, primals)
        env.update(zip(results, outs[:n]))
        return outs[n:]
    if CUSTOM_JVP in attrs:
        rule = function(op, symbol(attrs[CUSTOM_JVP]))
        what = (f"reverse mode through the custom_jvp function @{symbol(attrs['callee'])} transposes its jvp "
                f"rule @{_name(rule)}, which must be linear in the tangents")
        linear = check_linear(rule, list(range(len(operands), 2 * len(operands))), what)
        args, body, outs = body_of(rule)
        for j, v in enumerate(outs[:n]):
            if v in linear:
                raise PassFailure(f"{what}; its primal result {j} depends on the tangents", op.location)
        em = Emitter()
        inner = {a: (primals[i] if i < len(operands) else em.zeros_like(a)) for i, a in enumerate(args)}
        inner_active = propagate(body, set(args[len(operands):]))
        records = reverse_mode.forward(body, inner, inner_active)
        env.update(zip(results, [inner[v] for v in outs[:n]]))
        return inner, inner_active, records, args[len(operands):], outs[n:]
    args, body, outs = body_of(callee(op))
    inner = dict(zip(args, primals))
    inner_active = propagate(body, {a for a, v in zip(args, operands) if v in active})
    policy = policy_of(op)
    if policy is None:  # a plain call: its forward sweep, as if inlined
        records = reverse_mode.forward(body, inner, inner_active)
        env.update(zip(results, [inner[v] for v in outs]))
        return inner, inner_active, records, args, outs
    clone_ops(body, inner)  # the forward values, none kept for the reverse sweep (but dots, by policy)
    env.update(zip(results, [inner[v] for v in outs]))
    saved = {}
    if policy == "dots":
        saved = {o.results[0]: inner[o.results[0]] for o in body if o.operation.name == "tg.dot_general"}
    return saved


def reverse_call(op, data, env, active, ct):
    operands, results = list(op.operands), list(op.results)
    result_cts = [ct.pop(r, None) for r in results]
    if all(c is None for c in result_cts):
        return
    em = Emitter()
    attrs = op.attributes
    if CUSTOM_VJP in attrs:
        bwd = function(op, rules_of(op)[1])
        seeds = [c if c is not None else em.zeros_like(env[r]) for c, r in zip(result_cts, results)]
        operand_cts = inline(bwd, list(data) + seeds)
    else:
        if CUSTOM_JVP in attrs:
            inner, inner_active, records, wrt, outs = data
        elif policy_of(op) is None:
            inner, inner_active, records, args, outs = data
            wrt = args
        else:  # recompute the checkpointed body from its arguments, then its reverse sweep
            args, body, outs = body_of(callee(op))
            # Every operand goes through a barrier (a copy), so that no part of the recomputation
            # is merged back into the forward values (a bias broadcast from a parameter alone was).
            inner = {a: em.optimization_barrier(env[v]) for a, v in zip(args, operands)}
            inner_active = propagate(body, {a for a, v in zip(args, operands) if v in active})
            records = reverse_mode.forward(body, inner, inner_active, saved=data)
            wrt = args
        inner_ct = {}
        for v, c in zip(outs, result_cts):
            if c is not None and v in inner_active:
                inner_ct[v] = add_any(em, inner_ct.get(v), c)
        reverse_mode.reverse(records, inner, inner_active, inner_ct)
        operand_cts = [inner_ct.get(a) for a in wrt]
    for v, c in zip(operands, operand_cts):
        if c is not None and v in active:
            ct[v] = add_any(em, ct.get(v), c)


forward_mode.REGION_RULES["func.call"] = jvp_call
reverse_mode.REGION_RULES["func.call"] = (forward_call, reverse_call)
