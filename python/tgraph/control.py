"""Control flow in traced functions, with JAX's signatures: scan, fori_loop, while_loop, cond, switch.

Each records one upstream scf op carrying tensors, whose regions hold the body's tg ops (see
tgraph.dialect.control_flow): a 10,000-step scan is one loop in the IR, not 10,000 copies of its
body, and the derivative passes differentiate it as a loop. Carries, `xs`, `ys` and operands are
pytrees (tuples, lists, dicts) of Vars; bodies may use Vars of the enclosing function."""

import numbers

import numpy as np
from tgraph.dialect import control_flow as cf
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.pytrees import flatten_with_paths, path_text, unflatten
from .support.mlir import arith, ir, scf
from .graph import Var, check_visible, current_trace, user_location

__all__ = ["scan", "fori_loop", "while_loop", "cond", "switch"]


# ----------------------------------------------------------------------------- pytrees of Vars
def _leaves(tree, what, trace, allow_none=False):
    """The tree's leaves as Vars of `trace` (Python numbers and numpy arrays become constants),
    its paths and its structure."""
    if tree is None and allow_none:
        return [], [], None
    paths, leaves, treedef = flatten_with_paths(tree, none_is_leaf=True)
    out = []
    for path, leaf in zip(paths, leaves):
        if isinstance(leaf, Var):
            if leaf.trace is not trace:
                raise TGraphError(f"{what}{path_text(path)} is a Var of graph {leaf.trace.name!r}, not of the "
                                  f"function being traced ({trace.name!r})")
            out.append(leaf)
        elif isinstance(leaf, (numbers.Number, np.ndarray, np.number, np.bool_)) and not isinstance(leaf, bool):
            from .ops import constant_in  # the API's constants: Python floats are f32, ints i32
            out.append(constant_in(trace, leaf))
        else:
            raise TGraphTypeError(f"{what}{path_text(path)} is a {type(leaf).__name__}; loop carries, xs and "
                                  "branch operands must be tgraph Vars (or tuples, lists and dicts of them)")
    return out, paths, treedef


def _trace_for():
    """The trace the control-flow op belongs to: the innermost one being traced (its operands'
    Vars are checked to belong to it by _leaves)."""
    trace = current_trace()
    if trace is None:
        raise TGraphError("control flow (tgraph.scan, fori_loop, while_loop, cond, switch) builds graph ops: "
                          "call it inside a function being traced (tgraph.trace, compile_scalar, @tgraph.jit)")
    return trace


def _check_same(what, paths, before, after, before_tree, after_tree, entry="on entry", exit="returned by the body",
                rule="a loop carry keeps its structure, shapes and dtypes (cast or reshape it in the body)"):
    if before_tree != after_tree:
        raise TGraphError(f"{what} changes structure: {before_tree} {entry}, {after_tree} {exit}; {rule}")
    for path, a, b in zip(paths, before, after):
        if a.spec != b.spec:
            raise TGraphError(f"{what}{path_text(path)} is {a.spec} {entry} but {b.spec} {exit}; {rule}")


def _rebuild(treedef, trace, values):
    return unflatten(treedef, [trace.var(v) for v in values])


def _move_body(old_block, new_block):
    for op in list(old_block.operations):
        new_block.append(op)


def _replace_args(old_block, new_values):
    for old, new in zip(old_block.arguments, new_values):
        old.replace_all_uses_with(new)


# ----------------------------------------------------------------------------- loops
@user_facing
def scan(f, init, xs=None, length=None, reverse=False, checkpoint=None):
    """`f(carry, x) -> (carry, y)` over the leading axis of `xs`: returns `(carry, ys)`, the
    `y`s stacked on a new leading axis (jax.lax.scan). `xs=None` needs `length`. With
    `checkpoint=k`, reverse mode saves every k-th carry and recomputes the steps between."""
    trace = _trace_for()
    carries, carry_paths, carry_tree = _leaves(init, "scan: init", trace)
    x_leaves, x_paths, x_tree = _leaves(xs, "scan: xs", trace, allow_none=True)
    lengths = {x.shape[0] if x.ndim else None for x in x_leaves}
    if None in lengths:
        raise TGraphError("scan: every xs leaf needs a leading axis to scan over; a scalar leaf has none")
    if length is not None:
        if not isinstance(length, numbers.Integral) or isinstance(length, bool):
            raise TGraphTypeError(f"scan: length must be a Python int, got {type(length).__name__}")
        lengths.add(int(length))
    if len(lengths) != 1:
        detail = ", ".join(f"xs{path_text(p)}: {x.shape[0]}" for p, x in zip(x_paths, x_leaves))
        raise TGraphError("scan: " + ("pass length=... when xs is None" if not lengths else
                                      f"the leading axes differ ({detail}{', length: ' + str(length) if length is not None else ''})"))
    (steps,) = lengths
    if steps < 1:
        raise TGraphError(f"scan: length {steps}: a scan needs at least one step")
    if checkpoint is not None and (not isinstance(checkpoint, numbers.Integral) or isinstance(checkpoint, bool)
                                   or checkpoint < 1):
        raise TGraphError(f"scan: checkpoint must be a positive int (save every k-th carry), got {checkpoint!r}")

    with user_location():
        lower, upper, one = cf.index_constant(0), cf.index_constant(steps), cf.index_constant(1)
        draft = scf.ForOp(lower, upper, one, [c.value for c in carries])
        with ir.InsertionPoint(draft.body):
            index = draft.induction_variable
            if reverse:
                index = arith.SubIOp(cf.index_constant(steps - 1), index).result
            position = trace.var(cf.index_as_tensor(index))
            x = None if x_tree is None else unflatten(
                x_tree, [trace.emit("gather", [leaf, position]) for leaf in x_leaves])
            result = f(_rebuild(carry_tree, trace, draft.inner_iter_args), x)
            if not isinstance(result, tuple) or len(result) != 2:
                raise TGraphError(f"scan: the body must return a pair (carry, y), got {type(result).__name__}")
            new_carries, new_paths, new_tree = _leaves(result[0], "scan: the body's carry", trace)
            _check_same("scan: carry", carry_paths, carries, new_carries, carry_tree, new_tree)
            ys, _, y_tree = _leaves(result[1], "scan: the body's y", trace, allow_none=True)
        # The ys' types are known now: rebuild the loop with their stacks as carries too.
        stacks = [trace.emit("splat", [], value=0.0, shape=(steps,) + y.shape, dtype=y.spec.dtype) for y in ys]
        loop = scf.ForOp(lower, upper, one, [c.value for c in carries] + [s.value for s in stacks])
        new_args = [loop.induction_variable] + list(loop.inner_iter_args)
        _replace_args(draft.body, new_args)
        # Results that are the draft's own arguments (a carry or x passed through) follow them.
        moved = dict(zip(draft.body.arguments, new_args))
        new_carries, ys = ([trace.var(moved.get(v.value, v.value)) for v in vs] for vs in (new_carries, ys))
        position = trace.var(moved.get(position.value, position.value))
        _move_body(draft.body, loop.body)
        draft.operation.erase()
        with ir.InsertionPoint(loop.body):
            stacked = [trace.emit("set_row", [trace.var(acc), y, position]).value
                       for acc, y in zip(list(loop.inner_iter_args)[len(carries):], ys)]
            check_visible([c.value for c in new_carries], "scan: the body's carry")
            scf.YieldOp([c.value for c in new_carries] + stacked)
        if checkpoint is not None:
            loop.operation.attributes[cf.CHECKPOINT] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), checkpoint)
    results = list(loop.results)
    carry = _rebuild(carry_tree, trace, results[:len(carries)])
    stacked_ys = None if y_tree is None else _rebuild(y_tree, trace, results[len(carries):])
    return carry, stacked_ys


@user_facing
def fori_loop(lower, upper, body, init):
    """`val = body(i, val)` for i in range(lower, upper) (jax.lax.fori_loop); `i` is an i32 scalar Var."""
    for name, bound in (("lower", lower), ("upper", upper)):
        if not isinstance(bound, numbers.Integral) or isinstance(bound, bool):
            raise TGraphTypeError(f"fori_loop: {name} must be a Python int, got {type(bound).__name__} "
                                  "(for a bound computed in the graph, use while_loop)")
    trace = _trace_for()
    carries, paths, tree = _leaves(init, "fori_loop: init", trace)
    with user_location():
        loop = scf.ForOp(cf.index_constant(lower), cf.index_constant(max(upper, lower)), cf.index_constant(1),
                         [c.value for c in carries])
        with ir.InsertionPoint(loop.body):
            i = trace.var(cf.index_as_tensor(loop.induction_variable))
            new, _, new_tree = _leaves(body(i, _rebuild(tree, trace, loop.inner_iter_args)),
                                       "fori_loop: the body's value", trace)
            _check_same("fori_loop: value", paths, carries, new, tree, new_tree)
            check_visible([c.value for c in new], "fori_loop: the body's value")
            scf.YieldOp([c.value for c in new])
    return _rebuild(tree, trace, loop.results)


def _predicate(p, what):
    if not isinstance(p, Var):
        raise TGraphTypeError(f"{what} must return a boolean scalar Var, got {type(p).__name__}")
    if p.spec != TensorSpec((), "i1"):
        raise TGraphError(f"{what} must return a boolean scalar (i1 of shape ()), got {p.spec}; "
                          "reduce it first (tgraph.all / x.sum() > 0) or compare a scalar")
    return p


@user_facing
def while_loop(cond_fun, body, init, max_iterations=None):
    """`while cond_fun(val): val = body(val)` (jax.lax.while_loop). With `max_iterations`, at most
    that many iterations run, and reverse mode can differentiate the loop (its tape has that many
    slots); without it only forward mode can."""
    if max_iterations is not None and (not isinstance(max_iterations, numbers.Integral)
                                       or isinstance(max_iterations, bool) or max_iterations < 0):
        raise TGraphError(f"while_loop: max_iterations must be a non-negative int, got {max_iterations!r}")
    trace = _trace_for()
    carries, paths, tree = _leaves(init, "while_loop: init", trace)
    bounded = max_iterations is not None
    with user_location():
        count = [trace.emit("splat", [], value=0.0, shape=(), dtype=cf.INDEX_DTYPE)] if bounded else []
        inits = [c.value for c in carries + count]
        types = [v.type for v in inits]
        loop = scf.WhileOp(types, inits)
        before = loop.before.blocks.append(*types)
        after = loop.after.blocks.append(*types)
        with ir.InsertionPoint(before):
            p = _predicate(cond_fun(_rebuild(tree, trace, list(before.arguments)[:len(carries)])), "while_loop: cond_fun")
            condition = cf.tensor_as_condition(p.value)
            if bounded:  # the count of iterations run is the last carry
                bound = trace.emit("splat", [], value=float(max_iterations), shape=(), dtype=cf.INDEX_DTYPE)
                below = trace.emit("compare", [trace.var(before.arguments[len(carries)]), bound], direction="lt")
                condition = arith.AndIOp(condition, cf.tensor_as_condition(below.value)).result
            scf.ConditionOp(condition, list(before.arguments))
        with ir.InsertionPoint(after):
            new, _, new_tree = _leaves(body(_rebuild(tree, trace, list(after.arguments)[:len(carries)])),
                                       "while_loop: the body's value", trace)
            _check_same("while_loop: value", paths, carries, new, tree, new_tree)
            if bounded:
                one = trace.emit("splat", [], value=1.0, shape=(), dtype=cf.INDEX_DTYPE)
                new = new + [trace.emit("add", [trace.var(after.arguments[len(carries)]), one])]
            check_visible([c.value for c in new], "while_loop: the body's value")
            scf.YieldOp([c.value for c in new])
        if bounded:
            loop.operation.attributes[cf.MAX_ITERATIONS] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                                               max_iterations)
    return _rebuild(tree, trace, list(loop.results)[:len(carries)])


# ----------------------------------------------------------------------------- branches
def _trace_branches(trace, what, branches, operands, make_op):
    """Trace each branch into a draft op's regions, check they agree, then build the op with the
    result types (`make_op(types)`) and move the branches' ops into it."""
    args, _, args_tree = _leaves(operands, f"{what}: operand", trace)
    arg_tree = unflatten(args_tree, args)
    draft = make_op([])
    outputs = []
    for k, (branch, region) in enumerate(zip(branches, draft.regions)):
        block = region.blocks[0]
        with ir.InsertionPoint(block):
            out, out_paths, out_tree = _leaves(branch(*arg_tree), f"{what}: branch {k}'s output", trace)
        if outputs:
            first, first_paths, first_tree = outputs[0]
            _check_same(f"{what}: output", first_paths, first, out, first_tree, out_tree, "in branch 0",
                        f"in branch {k}", "every branch returns the same structure, shapes and dtypes")
        outputs.append((out, out_paths, out_tree))
    op = make_op([v.value.type for v in outputs[0][0]])
    for (out, _, _), old, new in zip(outputs, draft.regions, op.regions):
        _move_body(old.blocks[0], new.blocks[0])
        with ir.InsertionPoint(new.blocks[0]):
            check_visible([v.value for v in out], f"{what}: a branch's output")
            scf.YieldOp([v.value for v in out])
    draft.operation.erase()
    return _rebuild(outputs[0][2], trace, op.results)


@user_facing
def cond(pred, true_fun, false_fun, *operands):
    """`true_fun(*operands)` if pred else `false_fun(*operands)` (jax.lax.cond); only the taken
    branch runs, and only its derivative."""
    trace = _trace_for()
    pred = _predicate(pred, "cond: pred")
    with user_location():
        condition = cf.tensor_as_condition(pred.value)
        return _trace_branches(trace, "cond", [true_fun, false_fun], operands,
                               lambda types: scf.IfOp(condition, types, has_else=True))


@user_facing
def switch(index, branches, *operands):
    """`branches[index](*operands)` (jax.lax.switch), `index` an integer scalar Var clamped to the
    branches' range."""
    branches = list(branches)
    if not branches:
        raise TGraphError("switch: needs at least one branch")
    trace = _trace_for()
    if not isinstance(index, Var) or index.spec.shape != () or index.spec.dtype not in ("i32", "i64"):
        got = index.spec if isinstance(index, Var) else type(index).__name__
        raise TGraphError(f"switch: index must be an integer scalar Var (i32 or i64 of shape ()), got {got}")
    if len(branches) == 1:
        return branches[0](*operands)
    from .ops import clip
    with user_location():
        at = cf.tensor_as_index(clip(index, 0, len(branches) - 1).value)

        def make(types):
            op = scf.IndexSwitchOp(types, at, list(range(len(branches) - 1)))
            for region in op.regions:  # the builder makes the blocks on some binding versions only
                if not len(region.blocks):
                    region.blocks.append()
            return _Reordered(op)

        return _trace_branches(trace, "switch", branches, operands, make)


class _Reordered:
    """An scf.index_switch seen with its regions in branch order (cases, then the default)."""

    def __init__(self, op):
        self.op = op
        regions = list(op.regions)
        self.regions = regions[1:] + regions[:1]
        self.results = op.results
        self.operation = op.operation
