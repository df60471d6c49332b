"""What a compiled function's callers see, apart from how it was compiled: the map from Python
arguments and results (pytrees) to flat arrays (`Signature`), and the entry points' methods
(`forward`, `jvp`, `backward`, `value_and_grad`, ...) over `run(entry, arrays)`.

tgraph.compiled (compiled in this process) and tgraph.runtime (loaded from an exported artifact,
without MLIR) share them, so both check arguments and give results alike. No MLIR here."""

import inspect

import numpy as np

from .support import pytrees
from .support.arguments import conform
from .support.dtypes import is_float
from .support.errors import TGraphError, user_facing


class EntryPoints:
    """The calls CompiledScalar and CompiledOut share. Subclasses set `input_specs`,
    `output_specs`, `wrt` (differentiated input leaves), `donate` ((input, output) pairs of the
    forward entry), `_signature` and `run(entry, arrays)`."""

    def results(self, arrays):
        """The outputs in the function's result structure (one array, a tuple, or its pytree)."""
        return self._signature.outputs(arrays)

    def _check(self, method, arrays, specs, what):
        names = self._signature.leaf_names if what == "inputs" else None
        return conform(arrays, specs, method, what, names)

    def _inputs(self, method, xs):
        return self._check(method, self._signature.input_leaves(xs), self.input_specs, "inputs")

    def _forward_inputs(self, method, xs):
        """The forward entry's inputs; those it donates (jit's donate_argnums) must not share memory
        with another input, since the call writes them."""
        inputs = self._inputs(method, xs)
        for leaf, _ in self.donate:
            for other, array in enumerate(inputs):
                if other != leaf and np.shares_memory(inputs[leaf], array):
                    raise TGraphError(f"{method}: input {leaf} is donated (donate_argnums) but shares its memory "
                                      f"with input {other}; pass a copy, or do not donate it")
        return inputs

    def _tangents(self, method, dxs):
        """Tangents for the differentiated inputs: one per wrt input, or one per input (None elsewhere);
        pytree arguments take tangents of their structure."""
        dxs = self._signature.tangent_leaves(list(dxs), self.wrt)
        return self._check(method, dxs, [self.input_specs[i] for i in self.wrt], "tangents")

    def _aligned(self, grads):
        """Gradients aligned with the inputs: None where an input is not differentiated; a pytree
        argument's in its structure."""
        by_input = dict(zip(self.wrt, grads))
        return self._signature.per_argument([by_input.get(i) for i in range(len(self.input_specs))])

    def _vjp(self, method, xs, seed):
        floats = [i for i, s in enumerate(self.output_specs) if is_float(s.dtype)]
        seeds = self._signature.seed_leaves(seed, floats)
        seeds = self._check(method, seeds, [self.output_specs[i] for i in floats], "seeds")
        return self._aligned(self.run("vjp", self._inputs(method, xs) + seeds))


class ScalarEntryPoints(EntryPoints):
    """A function with one scalar (0-d) floating-point output."""

    ENTRY_POINTS = ("forward", "jvp", "grad", "vjp", "value_and_grad")
    ADJOINT_ENTRY = "grad"

    @user_facing
    def forward(self, *xs):
        """The function's value, as a Python float."""
        return float(self.run("forward", self._forward_inputs("forward", xs))[0])

    @user_facing
    def jvp(self, xs, dxs):
        """(y, dy): the value and its derivative along the tangents of the differentiated inputs."""
        y, dy = self.run("jvp", self._inputs("jvp", xs) + self._tangents("jvp", dxs))
        return float(y), float(dy)

    @user_facing
    def backward(self, *xs):
        """Gradients with seed 1, one per input (None for inputs that are not differentiated)."""
        return self._aligned(self.run("grad", self._inputs("backward", xs)))

    @user_facing
    def backward_with_seed(self, xs, seed):
        """Gradients of seed * f: PyTorch's out.backward(gradient=seed)."""
        (seed,) = self._check("backward_with_seed", [seed], [self.output_specs[0]], "seeds")
        return self._aligned(self.run("vjp", self._inputs("backward_with_seed", xs) + [seed]))

    @user_facing
    def value_and_grad(self, *xs):
        """(value, gradients) in one forward and one reverse sweep."""
        y, *grads = self.run("value_and_grad", self._inputs("value_and_grad", xs))
        return float(y), self._aligned(grads)


class OutEntryPoints(EntryPoints):
    """A function with any outputs: arrays, several results."""

    ENTRY_POINTS = ("forward", "jvp", "vjp")
    ADJOINT_ENTRY = "vjp"

    @user_facing
    def forward(self, *xs):
        return self.results(self.run("forward", self._forward_inputs("forward", xs)))

    @user_facing
    def jvp(self, xs, dxs):
        """(y, dy) for each output; dy only for floating-point outputs."""
        results = self.run("jvp", self._inputs("jvp", xs) + self._tangents("jvp", dxs))
        n = len(self.output_specs)
        return self.results(results[:n]), self._signature.output_tangents(results[n:], self.output_specs)

    @user_facing
    def vjp_with_seed(self, xs, seed):
        """Gradients of <seed, f(xs)>, one per input (None where not differentiated); one seed per
        floating-point output (a tuple when there are several)."""
        return self._vjp("vjp_with_seed", xs, seed)


class Signature:
    """How a compiled function's flat inputs and outputs map to its Python arguments and results:
    one leaf per argument for flat functions, the leaves of each pytree argument otherwise."""

    def __init__(self, n_inputs, in_tree, out_tree, fn=None, arg_names=None):
        """`in_tree`, `out_tree`: the traced function's argument and result structures (None for a
        Graph built without tracing); argument names from `arg_names`, else `fn`'s parameters."""
        n = n_inputs
        tree = in_tree
        self.structured_in = tree is not None and not pytrees.is_flat_sequence(tree)
        self.structured_out = pytrees.is_structured_result(out_tree)
        self.in_tree, self.out_tree = tree, out_tree
        if self.structured_in:
            per_arg = [c.num_leaves for c in tree.children()]
        else:
            per_arg = [1] * n
        if arg_names is None:
            arg_names = _parameter_names(fn, len(per_arg)) if callable(fn) else [f"x{i}" for i in range(len(per_arg))]
        self.arg_names = list(arg_names)
        starts = np.cumsum([0] + per_arg)
        self.arg_leaves = [list(range(starts[k], starts[k + 1])) for k in range(len(per_arg))]
        if self.structured_in:
            paths, _, _ = pytrees.flatten_with_paths(pytrees.unflatten(tree, range(n)))
            self.leaf_names = [f"{self.arg_names[p[0]]}{pytrees.path_text(p[1:])}" for p in paths]
        else:
            self.leaf_names = list(self.arg_names)

    def leaves_of(self, args):
        """(argument, leaf index) for every leaf of the given positional arguments."""
        found = []
        for a in args:
            if not 0 <= a < len(self.arg_leaves):
                raise TGraphError(f"wrt={a} is out of range: the function takes {len(self.arg_leaves)} arguments")
            found += [(a, leaf) for leaf in self.arg_leaves[a]]
        return found

    def input_leaves(self, xs):
        if not self.structured_in:
            return list(xs)
        return pytrees.flatten_like(self.in_tree, list(xs), "the arguments")

    def tangent_leaves(self, dxs, wrt):
        if not self.structured_in:
            n = len(self.arg_leaves)
            return [dxs[i] for i in wrt] if len(dxs) == n and len(wrt) != n else dxs
        args = sorted({a for a, leaves in enumerate(self.arg_leaves) if set(leaves) & set(wrt)})
        if len(dxs) == len(self.arg_leaves) and len(args) != len(dxs):
            dxs = [dxs[a] for a in args]
        leaves = []
        for a, dx in zip(args, dxs):
            leaves += pytrees.flatten_like(self.in_tree.children()[a], dx, f"the tangents of argument {a}")
        return leaves

    def seed_leaves(self, seed, floats):
        if not self.structured_out:
            return list(seed) if len(floats) > 1 else [seed]
        all_outputs = pytrees.unflatten(self.out_tree, range(self.out_tree.num_leaves))
        float_tree = pytrees.tree_map(lambda i: i if i in floats else None, all_outputs)
        return pytrees.flatten_like(pytrees.structure(float_tree), seed, "the seeds")

    def per_argument(self, leaves):
        if not self.structured_in:
            return tuple(leaves)
        return tuple(pytrees.unflatten(self.in_tree, leaves))

    def output_tangents(self, arrays, output_specs):
        """Tangents of the floating-point outputs: in the result structure (None at the others)."""
        if not self.structured_out:
            return arrays[0] if len(arrays) == 1 else tuple(arrays)
        it = iter(arrays)
        return pytrees.unflatten(self.out_tree, [next(it) if is_float(s.dtype) else None for s in output_specs])

    def outputs(self, arrays):
        if self.structured_out:
            return pytrees.unflatten(self.out_tree, arrays)
        return arrays[0] if len(arrays) == 1 else tuple(arrays)




def _parameter_names(fn, n):
    try:
        params = [p.name for p in inspect.signature(fn).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return params[:n] + [f"x{i}" for i in range(len(params), n)]


