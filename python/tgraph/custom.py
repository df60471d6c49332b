"""Custom derivative rules and checkpoints of Python functions: `custom_jvp`, `custom_vjp` (JAX's
signatures) and `checkpoint`.

Called on Vars inside a traced function, each traces the function (and its rules) once per
signature into private functions of the module being built and emits a `func.call` of the
function, with the rule as an attribute naming the private functions (`tg.custom_jvp = @rule`,
`tg.custom_vjp = [@fwd, @bwd]`, `tg.checkpoint_policy = "nothing"`): the AD passes read them
(passes/ad/calls.py), the IR shows them, and the backends inline every call (tg-inline-calls).
Called on arrays, each evaluates through `@jit`."""

import itertools

import numpy as np

from tgraph.passes.ad.calls import CHECKPOINT_POLICY, CUSTOM_JVP, CUSTOM_VJP  # API -> passes

from .compiled import jit
from .graph import Var, check_visible, current_trace, trace, user_location
from .support import pytrees
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.mlir import func, ir
from .support.symbols import copy_functions
from .transforms import _spec_tree

_numbers = itertools.count(1)
POLICIES = {None: "nothing", "nothing_saveable": "nothing", "dots_saveable": "dots"}  # JAX's names


def _private(graph):
    graph.func_op().attributes["sym_visibility"] = ir.StringAttr.get("private")
    return graph


def _zeros(spec):
    return current_trace().constant(np.zeros(spec.shape, spec.np_dtype))


def _as_var(value, what):
    if isinstance(value, Var):
        return value
    if value is None:
        raise TGraphTypeError(f"{what} is None; return a Var (or a zero array)")
    return current_trace().constant(np.asarray(value))


def _nondiff_positions(nondiff_argnums, kind):
    try:
        positions = tuple(nondiff_argnums)
    except TypeError:
        raise TGraphTypeError(f"{kind}: nondiff_argnums={nondiff_argnums!r}: give a tuple of argument indices") from None
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in positions) \
            or len(set(positions)) != len(positions):
        raise TGraphTypeError(f"{kind}: nondiff_argnums={nondiff_argnums!r}: give distinct non-negative argument "
                              "indices")
    return tuple(sorted(positions))


class _CallsPrivate:
    """What the three share: tracing per signature, the call at the insertion point, evaluation.
    Arguments at `nondiff_argnums` are static Python values (functions, numbers, strings: JAX's
    main use of them), part of the signature; the rest are the function's tensors."""

    kind = ""

    def __init__(self, fun, nondiff_argnums=()):
        if not callable(fun):
            raise TGraphTypeError(f"{self.kind} needs a function, got {type(fun).__name__}")
        self.fun = fun
        self.nondiff_argnums = _nondiff_positions(nondiff_argnums, self.kind)
        self.__name__ = getattr(fun, "__name__", "f").replace("<lambda>", "lambda")
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__wrapped__ = fun
        self._traced = {}  # (static arguments, argument structure, leaf specs) -> (graphs, attributes, primal graph)
        self._in_rules = False
        self._jits = {}  # static arguments -> the jit that evaluates on arrays

    def _split(self, args):
        """(the static arguments, the tensor arguments) of a call."""
        if self.nondiff_argnums and self.nondiff_argnums[-1] >= len(args):
            raise TGraphTypeError(f"{self.kind} function {self.__name__!r} was called with {len(args)} argument(s), "
                                  f"but nondiff_argnums={self.nondiff_argnums} names argument "
                                  f"{self.nondiff_argnums[-1]}")
        static = tuple(args[i] for i in self.nondiff_argnums)
        for i, value in zip(self.nondiff_argnums, static):
            if any(isinstance(leaf, (Var, np.ndarray)) for leaf in pytrees.tree_leaves(value)):
                raise TGraphTypeError(f"argument {i} of {self.kind} function {self.__name__!r} is in nondiff_argnums, "
                                      "which takes static Python values (functions, numbers, strings); pass a tensor "
                                      "as an ordinary argument (its cotangent or tangent may be None)")
            try:
                hash(value)
            except TypeError:
                raise TGraphTypeError(f"argument {i} of {self.kind} function {self.__name__!r} is in nondiff_argnums "
                                      f"and must be hashable (it is part of the signature); got "
                                      f"{type(value).__name__}") from None
        return static, [a for i, a in enumerate(args) if i not in self.nondiff_argnums]

    def _merge(self, static, tensors):
        """The full argument list from the static and the tensor arguments."""
        args, static, tensors = [], list(static), list(tensors)
        for i in range(len(static) + len(tensors)):
            args.append(static.pop(0) if i in self.nondiff_argnums else tensors.pop(0))
        return args

    def _evaluate(self, static, tensors):
        """On arrays: compiled through @jit, one per set of static arguments."""
        compiled = self._jits.get(static)
        if compiled is None:
            compiled = self._jits[static] = jit(lambda *xs: self(*self._merge(static, xs)))
            compiled.__name__ = self.__name__
        return compiled(*tensors)

    def _name(self, role):
        return f"{self.__name__}_{self.kind}{next(_numbers)}{role}"

    def _trace(self, fn, specs, role):
        graph = trace(fn, specs, name=self._name(role))
        if graph.captures:
            raise TGraphError(f"{self.kind} function {self.__name__!r} ({role or 'primal'}) uses a Var of the function "
                              "it is called from (a closure); pass that value in as an argument")
        return _private(graph)

    def _rules(self, primal, specs, in_tree, static):
        """The rule functions traced at `specs` (the tensor arguments'), and the call's attributes
        naming them."""
        raise NotImplementedError

    @user_facing
    def __call__(self, *args):
        static, tensors = self._split(args)
        tr = current_trace()
        if tr is None:  # on arrays: compiled (inside a trace, array arguments become constants)
            return self._evaluate(static, tensors)
        leaves, in_tree = pytrees.tree_leaves(tensors), pytrees.structure(tensors)
        leaves = [tr.lift(_as_var(leaf, "an argument")) for leaf in leaves]
        spec_tree = _spec_tree(pytrees.unflatten(in_tree, leaves))
        if self._in_rules:  # the function called by its own rule (as JAX's examples do): the plain function
            return self.fun(*args)
        key = (static, in_tree, tuple(v.spec for v in leaves))
        found = self._traced.get(key)
        if found is None:
            primal = self._trace(lambda *xs: self.fun(*self._merge(static, xs)), spec_tree, "")
            self._in_rules = True
            try:
                graphs, attrs = self._rules(primal, spec_tree, in_tree, static)
            finally:
                self._in_rules = False
            found = self._traced[key] = ([primal] + graphs, attrs, primal)
        graphs, attrs, primal = found
        module = tr.entry.owner.operation.parent
        for graph in graphs:
            copy_functions(graph.module, module)
        values = [v.value for v in leaves]
        check_visible(values, f"calling {self.kind} function {self.__name__!r}")
        call = func.CallOp([v.type for v in _outputs_of(primal)], ir.FlatSymbolRefAttr.get(primal.name),
                           values, loc=user_location())
        for name, value in attrs.items():
            call.attributes[name] = value
        outputs = [tr.var(r) for r in call.results]
        if pytrees.is_structured_result(primal.output_tree):
            return pytrees.unflatten(primal.output_tree, outputs)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def __repr__(self):
        return f"<tgraph.{self.kind} {self.__name__!r}>"


def _outputs_of(graph):
    return list(list(graph.func_op().regions[0].blocks[0].operations)[-1].operands)


def _symbols(*graphs):
    refs = [ir.FlatSymbolRefAttr.get(g.name) for g in graphs]
    return refs[0] if len(refs) == 1 else ir.ArrayAttr.get(refs)


class custom_jvp(_CallsPrivate):
    """`@tgraph.custom_jvp` then `f.defjvp(rule)`: `rule(primals, tangents) -> (primal_out,
    tangent_out)`, primals and tangents tuples of f's arguments (pytrees). Forward mode uses the
    rule; reverse mode transposes it, so its tangent_out must be linear in the tangents (an
    error says which op is not). With `nondiff_argnums` (JAX's), those arguments are static
    Python values, passed first: `rule(*nondiff_args, primals, tangents)`, primals and tangents
    of the other arguments."""

    kind = "custom_jvp"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.rule = None

    def defjvp(self, rule):
        if not callable(rule):
            raise TGraphTypeError(f"defjvp needs a function rule(primals, tangents), got {type(rule).__name__}")
        self.rule, self._traced = rule, {}
        return rule

    def _rules(self, primal, specs, in_tree, static):
        if self.rule is None:
            raise TGraphError(f"custom_jvp function {self.__name__!r} has no rule: call {self.__name__}.defjvp(rule) "
                              "before using it")
        n = in_tree.num_leaves
        out_tree, out_specs = primal.output_tree, primal.output_specs

        def flat_rule(*leaves):
            primals = tuple(pytrees.unflatten(in_tree, leaves[:n]))
            tangents = tuple(pytrees.unflatten(in_tree, leaves[n:]))
            result = self.rule(*static, primals, tangents)
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TGraphTypeError(f"the jvp rule of {self.__name__!r} must return (primal_out, tangent_out)")
            ys = pytrees.flatten_like(out_tree, result[0], f"the primal_out of {self.__name__!r}'s jvp rule")
            ts = pytrees.flatten_like(out_tree, result[1], f"the tangent_out of {self.__name__!r}'s jvp rule")
            ys = [_as_var(y, "a primal_out leaf") for y in ys]
            ts = [_zeros(s) if t is None else _as_var(t, "a tangent_out leaf") for t, s in zip(ts, out_specs)]
            for what, got in (("primal_out", ys), ("tangent_out", ts)):
                for k, (v, s) in enumerate(zip(got, out_specs)):
                    if v.spec != s:
                        raise TGraphError(f"the jvp rule of {self.__name__!r}: {what} leaf {k} is {v.spec}, but "
                                          f"{self.__name__!r} returns {s} there")
            return tuple(ys + ts)

        flat_specs = pytrees.tree_leaves(specs)
        rule = self._trace(flat_rule, flat_specs + flat_specs, "_jvp")
        return [rule], {CUSTOM_JVP: _symbols(rule)}


class custom_vjp(_CallsPrivate):
    """`@tgraph.custom_vjp` then `f.defvjp(fwd, bwd)`: `fwd(*args) -> (out, residuals)` and
    `bwd(residuals, out_cotangent) -> (one cotangent per argument, None for zero)`. Reverse mode
    uses the rules; forward mode (jvp, hvp, hessian) transposes bwd, so it must be linear in the
    cotangent (an error says which op is not), which JAX does not offer. With `nondiff_argnums`
    (JAX's), those arguments are static Python values: fwd takes every argument, bwd takes them
    first, `bwd(*nondiff_args, residuals, out_cotangent)`, and returns cotangents of the others."""

    kind = "custom_vjp"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd):
        if not (callable(fwd) and callable(bwd)):
            raise TGraphTypeError("defvjp needs two functions: fwd(*args) -> (out, residuals) and "
                                  "bwd(residuals, out_cotangent) -> (cotangent per argument)")
        self.fwd, self.bwd, self._traced = fwd, bwd, {}
        return self

    def _rules(self, primal, specs, in_tree, static):
        if self.fwd is None:
            raise TGraphError(f"custom_vjp function {self.__name__!r} has no rules: call "
                              f"{self.__name__}.defvjp(fwd, bwd) before using it")
        out_tree, out_specs = primal.output_tree, primal.output_specs
        residual_tree = []

        def flat_fwd(*args):
            result = self.fwd(*self._merge(static, args))
            if not isinstance(result, (tuple, list)) or len(result) != 2:
                raise TGraphTypeError(f"the fwd rule of {self.__name__!r} must return (out, residuals)")
            ys = pytrees.flatten_like(out_tree, result[0], f"the out of {self.__name__!r}'s fwd rule")
            residuals = pytrees.tree_map(lambda r: _as_var(r, "a residual"), result[1])
            residual_tree.append(pytrees.structure(residuals))
            return tuple([_as_var(y, "an out leaf") for y in ys] + pytrees.tree_leaves(residuals))

        fwd = self._trace(flat_fwd, specs, "_fwd")
        for k, (got, want) in enumerate(zip(fwd.output_specs, out_specs)):
            if got != want:
                raise TGraphError(f"the fwd rule of {self.__name__!r}: out leaf {k} is {got}, but {self.__name__!r} "
                                  f"returns {want} there")
        residual_specs = pytrees.unflatten(residual_tree[0], fwd.output_specs[len(out_specs):])
        arg_specs = list(specs)

        def flat_bwd(residuals, cotangent):
            cts = self.bwd(*static, residuals, cotangent)
            if not isinstance(cts, (tuple, list)) or len(cts) != len(arg_specs):
                others = " not in nondiff_argnums" if static else ""
                raise TGraphTypeError(f"the bwd rule of {self.__name__!r} must return a tuple of {len(arg_specs)} "
                                      f"cotangent(s), one per argument{others} (None for zero), as JAX's custom_vjp")
            flat = []
            for i, (ct, arg) in enumerate(zip(cts, arg_specs)):
                arg_leaves = pytrees.tree_leaves(arg)
                leaves = [None] * len(arg_leaves) if ct is None else pytrees.flatten_like(
                    pytrees.structure(arg), ct, f"the cotangents of argument {i} from {self.__name__!r}'s bwd rule")
                for k, (leaf, spec) in enumerate(zip(leaves, arg_leaves)):
                    leaf = _zeros(spec) if leaf is None else _as_var(leaf, "a cotangent")
                    if leaf.spec != spec:
                        raise TGraphError(f"the bwd rule of {self.__name__!r}: the cotangent of argument {i} (leaf {k}) "
                                          f"is {leaf.spec}, but the argument is {spec}")
                    flat.append(leaf)
            return tuple(flat)

        bwd = self._trace(flat_bwd, [residual_specs, pytrees.unflatten(out_tree, out_specs)], "_bwd")
        return [fwd, bwd], {CUSTOM_VJP: _symbols(fwd, bwd)}


class _Checkpointed(_CallsPrivate):
    kind = "checkpoint"

    def __init__(self, fun, policy, static_argnums=()):
        super().__init__(fun, static_argnums)
        self.policy = POLICIES[policy]

    def _rules(self, primal, specs, in_tree, static):
        return [], {CHECKPOINT_POLICY: ir.StringAttr.get(self.policy)}


def checkpoint(fun, policy=None, static_argnums=()):
    """`fun`, whose values the reverse pass recomputes instead of keeping from the forward pass
    (jax.checkpoint): less memory for a second forward pass through it. policy=None or
    "nothing_saveable" keeps nothing; "dots_saveable" keeps the results of matrix products
    (dot_general) and recomputes the rest. `static_argnums`: arguments that are Python values
    (as jax.checkpoint's)."""
    if policy not in POLICIES:
        raise TGraphError(f"checkpoint: unknown policy {policy!r}; choose one of "
                          f"{', '.join(repr(p) for p in POLICIES)}")
    return _Checkpointed(fun, policy, static_argnums)
