"""Transforms of Python functions, composing: `grad`, `value_and_grad`, `jvp`, `vjp`, `hvp` and
`vmap` given a function return a function. Called on Vars inside a traced function, it traces the
function at those Vars' types, runs the transform's pass on that Graph and inlines the result
(so `grad(grad(f))`, `vmap(grad(f))` and a `value_and_grad` inside `@jit` are one graph); called
on arrays, it evaluates through `@jit` (compiled once per signature). Given a Graph, each returns
a Graph (tgraph.autodiff, tgraph.batching).

Arguments and results are pytrees; `wrt` names positional arguments (default 0, as JAX's
argnums), and gradients come back in the structure of the arguments they belong to."""

import numpy as np

from . import autodiff, batching
from .compiled import jit
from .graph import Graph, Var, current_trace, trace
from .support import pytrees
from .support.dtypes import TensorSpec, is_float
from .support.errors import TGraphError, TGraphTypeError, user_facing


def _argnums(wrt):
    if isinstance(wrt, (int, np.integer)) and not isinstance(wrt, bool):
        return (int(wrt),), True
    try:
        items = tuple(wrt)
    except TypeError:
        raise TGraphTypeError(f"wrt={wrt!r}: give an argument index or a tuple of them") from None
    if not items or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        raise TGraphTypeError(f"wrt={wrt!r}: give an argument index or a non-empty tuple of them")
    return tuple(int(i) for i in items), False


def _spec_tree(args):
    """The TensorSpecs of a call's arguments (Vars or arrays), in their structure."""
    def spec(leaf):
        if isinstance(leaf, Var):
            return leaf.spec
        if isinstance(leaf, TensorSpec):
            return leaf
        return TensorSpec.of(np.asarray(leaf))
    return pytrees.tree_map(spec, list(args))


class Transformed:
    """A transform of a Python function (see the module's doc): `rule(graph)` gives the
    transformed Graph (its input and output structures set), `primals(args)` how many of a call's
    arguments are the function's own (the rest are tangents, seeds or vectors)."""

    def __init__(self, fn, kind, rule, primals=lambda args: len(args)):
        if not callable(fn):
            raise TGraphTypeError(f"{kind} needs a function or a tgraph.Graph, got {type(fn).__name__}")
        self.fn, self.kind, self.rule, self.primals = fn, kind, rule, primals
        self.__name__ = f"{kind}_{getattr(fn, '__name__', 'f')}".replace("<lambda>", "lambda")
        self.__wrapped__ = fn
        self._graphs = {}  # spec tree of the primal arguments -> transformed Graph
        self._jit = jit(self._traced)
        self._jit.__name__ = self.__name__

    def _traced(self, *args):
        return self(*args)

    def graph(self, *args):
        """The transformed Graph at these arguments' types (Vars, arrays or TensorSpecs)."""
        n = self.primals(args)
        specs = _spec_tree(args[:n])
        key = (pytrees.structure(specs), tuple(pytrees.tree_leaves(specs)))
        graph = self._graphs.get(key)
        if graph is None:
            inner = trace(self.fn, specs, name=getattr(self.fn, "__name__", None))
            graph = _keep_captures(self.rule(inner), inner)
            if not graph.captures:  # a graph that captures an enclosing trace's Vars is that call site's
                self._graphs[key] = graph
        return graph

    @user_facing
    def __call__(self, *args):
        if current_trace() is not None and any(isinstance(a, Var) for a in pytrees.tree_leaves(list(args))):
            n = self.primals(args)
            graph = self.graph(*args)
            return graph.inline(*args[:n], *graph.captures, *args[n:])
        return self._jit(*args)

    def __repr__(self):
        return f"<tgraph.{self.kind} of {getattr(self.fn, '__name__', self.fn)!r}>"


# ----------------------------------------------------------------------------- structures
def _keep_captures(result, inner):
    result.captures = list(inner.captures)
    return result


def _arg_trees(graph):
    """Each positional argument's spec tree, then each captured Var's spec (see Trace.lift)."""
    specs = graph.input_specs
    own = graph.input_tree.num_leaves
    return list(pytrees.unflatten(graph.input_tree, specs[:own])) + list(specs[own:])


def _flat_wrt(graph, argnums, kind):
    """Flat input indices of the leaves of the wrt arguments (all must be floating point)."""
    trees = _arg_trees(graph)
    starts = np.cumsum([0] + [len(pytrees.tree_leaves(t)) for t in trees])
    flat = []
    for a in argnums:
        if not 0 <= a < len(trees):
            raise TGraphError(f"{kind}: wrt={a} is out of range: {graph.name} takes {len(trees)} arguments")
        for k, spec in enumerate(pytrees.tree_leaves(trees[a])):
            if not is_float(spec.dtype):
                raise TGraphError(f"{kind}: argument {a} of {graph.name} has a leaf of type {spec}; only "
                                  "floating-point arguments can be differentiated (choose others with wrt=)")
            flat.append(int(starts[a]) + k)
    return tuple(flat)


def _wrt_trees(graph, argnums, single):  # argnums never name a capture: they come after the arguments
    trees = _arg_trees(graph)
    return trees[argnums[0]] if single else tuple(trees[a] for a in argnums)


def _with_vectors(graph, argnums):
    """The arguments, then one tangent (or vector) per wrt argument, in its structure."""
    trees = _arg_trees(graph)
    return trees + [trees[a] for a in argnums]


def _float_outputs(graph):
    """The result tree with None at its non-float leaves."""
    out = pytrees.unflatten(graph.output_tree, graph.output_specs)
    return pytrees.tree_map(lambda s: s if is_float(s.dtype) else None, out)


def _with_trees(result, inputs, outputs):
    result.input_tree = pytrees.structure(list(inputs))
    result.output_tree = pytrees.structure(outputs)
    return result


def _output_single(graph):
    return pytrees.unflatten(graph.output_tree, graph.output_specs)


# ----------------------------------------------------------------------------- the transforms
def _is_graph(fn):
    return isinstance(fn, Graph)


@user_facing
def grad(fn, wrt=None):
    """The gradient of a scalar-valued function: `grad(f)(x...)` has the structure of the wrt
    argument (a tuple of them when wrt is a tuple). Given a Graph: a Graph `(x...) -> dx per wrt input`."""
    if _is_graph(fn):
        return autodiff.grad(fn, wrt)
    argnums, single = _argnums(0 if wrt is None else wrt)

    def rule(graph):
        result = autodiff.grad(graph, _flat_wrt(graph, argnums, "grad"))
        return _with_trees(result, _arg_trees(graph), _wrt_trees(graph, argnums, single))

    return Transformed(fn, "grad", rule)


@user_facing
def value_and_grad(fn, wrt=None):
    """`(value, grad)` of a scalar-valued function in one forward and one reverse sweep."""
    if _is_graph(fn):
        return autodiff.value_and_grad(fn, wrt)
    argnums, single = _argnums(0 if wrt is None else wrt)

    def rule(graph):
        result = autodiff.value_and_grad(graph, _flat_wrt(graph, argnums, "value_and_grad"))
        return _with_trees(result, _arg_trees(graph), (_output_single(graph), _wrt_trees(graph, argnums, single)))

    return Transformed(fn, "value_and_grad", rule)


@user_facing
def jvp(fn, wrt=None):
    """Forward mode: `jvp(f, wrt)(x..., dx per wrt argument) -> (y, dy)`, dy in y's structure
    (None at non-float results). Given a Graph: `(x..., dx per wrt input) -> (y..., dy per float y)`."""
    if _is_graph(fn):
        return autodiff.jvp(fn, wrt)
    argnums, _ = _argnums(0 if wrt is None else wrt)

    def rule(graph):
        result = autodiff.jvp(graph, _flat_wrt(graph, argnums, "jvp"))
        return _with_trees(result, _with_vectors(graph, argnums), (_output_single(graph), _float_outputs(graph)))

    return Transformed(fn, "jvp", rule, primals=lambda args: len(args) - len(argnums))


@user_facing
def vjp(fn, wrt=None):
    """Reverse mode: `vjp(f, wrt)(x..., seed) -> dx`, the seed in the structure of f's float
    results, dx in the wrt argument's. Given a Graph: `(x..., seed per float y) -> dx per wrt input`."""
    if _is_graph(fn):
        return autodiff.vjp(fn, wrt)
    argnums, single = _argnums(0 if wrt is None else wrt)

    def rule(graph):
        result = autodiff.vjp(graph, _flat_wrt(graph, argnums, "vjp"))
        return _with_trees(result, _arg_trees(graph) + [_float_outputs(graph)], _wrt_trees(graph, argnums, single))

    return Transformed(fn, "vjp", rule, primals=lambda args: len(args) - 1)


@user_facing
def hvp(fn, wrt=None):
    """Hessian-vector products of a scalar-valued function, forward over reverse:
    `hvp(f, wrt)(x..., v per wrt argument) -> H v` in the wrt arguments' structure."""
    if _is_graph(fn):
        return autodiff.hvp(fn, wrt)
    argnums, single = _argnums(0 if wrt is None else wrt)

    def rule(graph):
        result = autodiff.hvp(graph, _flat_wrt(graph, argnums, "hvp"))
        return _with_trees(result, _with_vectors(graph, argnums), _wrt_trees(graph, argnums, single))

    return Transformed(fn, "hvp", rule, primals=lambda args: len(args) - len(argnums))


@user_facing
def hessian(fn, wrt=None):
    """The full Hessian of a scalar-valued Graph, for small inputs (see tgraph.autodiff.hessian)."""
    if not _is_graph(fn):
        raise TGraphTypeError("hessian takes a tgraph.Graph; for a function, trace it first (tgraph.trace) "
                              "or use tgraph.hvp, which composes")
    return autodiff.hessian(fn, wrt)


@user_facing
def vmap(fn, in_axes=0, out_axes=0, axis_size=None):
    """Vectorize over a batch axis, with JAX's semantics: `in_axes` per positional argument (an
    int, None for unbatched, or a pytree of them matching the argument; negative counts from the
    end), `out_axes` likewise for the results; `axis_size` when no argument is batched. Runs the
    tg-batch pass. Given a Graph (one lane's types): in_axes per input, axis_size required."""
    if _is_graph(fn):
        return batching.vmap_graph(fn, in_axes, out_axes, axis_size)
    return _Vmapped(fn, in_axes, out_axes, axis_size)


class _Vmapped(Transformed):
    """vmap traces fn at one lane's types: each batched argument without its batch axis."""

    def __init__(self, fn, in_axes, out_axes, axis_size):
        super().__init__(fn, "vmap", None)
        self.in_axes, self.out_axes, self.axis_size = in_axes, out_axes, axis_size

    def graph(self, *args):
        specs = _spec_tree(args)
        key = (pytrees.structure(specs), tuple(pytrees.tree_leaves(specs)))
        graph = self._graphs.get(key)
        if graph is None:
            per_lane, size = batching.unbatched_specs(specs, self.in_axes, self.axis_size)
            inner = trace(self.fn, per_lane, name=getattr(self.fn, "__name__", None))
            graph = _keep_captures(batching.vmap_graph(inner, self.in_axes, self.out_axes, size), inner)
            if not graph.captures:
                self._graphs[key] = graph
        return graph
