"""Graphs and tracing: `trace(fn, specs)` calls fn on one Var per input and records a tg function."""

import re
import threading

import numpy as np

from .support import dtypes, pytrees
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, TGraphTypeError, frame_position, user_facing, user_frame
from .support.mlir import func, ir
from .support.symbols import copy_functions, functions, lookup, name_of
from .interpreter import interpret
from tgraph import dialect
from tgraph.dialect import VerifyError, spec_of, tensor_type


def user_location():
    frame = user_frame()
    if frame is None:
        return ir.Location.unknown()
    filename, line, col = frame_position(frame)
    return ir.Location.file(filename, line, col)


_tracing = threading.local()


def current_trace():
    """The innermost function being traced on this thread, or None."""
    stack = getattr(_tracing, "stack", None)
    return stack[-1] if stack else None


class Trace:
    """The function being built: Vars remember it, so values from two graphs never mix. A trace
    started while another is being traced (a transform of a function called on Vars) may use the
    enclosing traces' Vars: each becomes an argument of this function (a capture), appended after
    its own, which the caller passes when it inlines the result."""

    def __init__(self, name, parent=None, entry=None):
        self.name = name
        self.active = True
        self.parent, self.entry = parent, entry
        self.captures = {}  # Var of an enclosing trace -> the Var of this trace's argument for it

    def var(self, value):
        """A Var of this trace for an MLIR value it holds (a loop's result, a block argument)."""
        return Var(value, spec_of(value.type), self)

    def constant(self, array):
        """A numpy array as a constant of this trace: a splat when all its elements are equal."""
        array = np.asarray(array)
        spec = TensorSpec(array.shape, dtypes.from_numpy(array.dtype))
        if array.size and (array == array.flat[0]).all() and array.dtype != np.bool_:
            return self.emit("splat", [], value=float(array.flat[0]), shape=spec.shape, dtype=spec.dtype)
        return self.emit("constant", [], value=array)

    def encloses(self, other):
        """Whether `other` is this trace or one it was started inside of, still being traced."""
        t = self
        while t is not None and t is not other:
            t = t.parent
        return t is not None and other.active

    def lift(self, var):
        """`var` as a Var of this trace: itself, or the argument capturing an enclosing trace's Var."""
        if var.trace is self:
            return var
        if self.entry is None or not self.encloses(var.trace):
            raise TGraphError(f"a Var of graph {var.trace.name!r} is used in {self.name!r}, which was not traced "
                              "inside it; pass the value in as an argument")
        inner = self.captures.get(var)
        if inner is None:
            inner = self.captures[var] = Var(self.entry.add_argument(var.value.type, user_location()), var.spec, self)
        return inner

    def emit(self, opname, operands, **attrs):
        """Append a tg op; returns its result as a Var. Asked of an enclosing trace's Var while an
        inner function is traced (`x.trace.emit`), the op goes to the inner one, on the capture."""
        current = current_trace()
        if current is not None and current is not self and current.encloses(self):
            return current.emit(opname, operands, **attrs)
        operands = [self.lift(v) for v in operands]
        values = [v.value for v in operands]
        check_visible(values, f"tg.{opname}")
        try:
            value, spec = dialect.create(opname, values, attrs, loc=user_location(), specs=[v.spec for v in operands])
        except VerifyError as err:
            types = ", ".join(str(v.spec) for v in operands)
            raise TGraphError(f"tg.{opname}: {err} (operand types: {types or 'none'})") from None
        return Var(value, spec, self)


def _block_of(value):
    owner = value.owner
    return owner if isinstance(owner, ir.Block) else owner.operation.block


def check_visible(values, what):
    """A TGraphError when a value was computed inside a loop or branch body that the op being
    built is not in: the IR would not verify (it does not dominate), and the message would not
    say what the user did."""
    here = ir.InsertionPoint.current.block
    for value in values:
        block = _block_of(value)
        if block == here:
            continue
        scope = here
        while scope is not None and scope != block:
            parent = scope.owner  # the op holding the block's region, until the function
            parent = parent.operation if parent is not None else None
            scope = parent.block if parent is not None and parent.name != "func.func" else None
        if scope is None:
            raise TGraphError(f"{what}: a value was computed inside the body of a loop or branch "
                              "(tgraph.scan, fori_loop, while_loop, cond, switch) and is used outside it; "
                              "return it from the body instead (in the carry, the ys or the branch's result)")


class Var:
    """A tensor value in a graph being traced. Arithmetic on Vars records tg ops."""

    __slots__ = ("value", "spec", "trace")
    __array_priority__ = 1000  # numpy defers to Var's operators: `ndarray + Var` stays a Var

    def __init__(self, value, spec, trace):
        self.value, self.spec, self.trace = value, spec, trace

    @property
    def shape(self):
        return self.spec.shape

    @property
    def dtype(self):
        return dtypes.DTYPES["bool_" if self.spec.dtype == "i1" else self.spec.dtype]

    @property
    def ndim(self):
        return self.spec.rank

    @property
    def size(self):
        return self.spec.size

    def __repr__(self):
        return f"Var({self.spec}, graph {self.trace.name!r})"

    def __bool__(self):
        raise TGraphError(
            "a traced Var has no truth value: Python `if`/`and`/`or` cannot branch on graph values; "
            "use tgraph.where(cond, a, b) to select elementwise")

    def __iter__(self):
        raise TGraphError(
            f"a traced Var ({self.spec}) cannot be iterated over: index its rows explicitly, "
            "[x[i] for i in range(x.shape[0])], or use a tgraph op along the axis")

    def __array__(self, *args, **kwargs):
        raise TGraphTypeError(
            f"a traced Var ({self.spec}) is not a numpy array: numpy functions (np.exp, np.asarray, ...) cannot "
            "run on graph values; use the tgraph function of the same name (tgraph.exp, ...)")

    __hash__ = object.__hash__

    # The operators are attached by tgraph.ops, which defines the functions they call.


def _function_name(fn, name):
    name = name or getattr(fn, "__name__", "main")
    name = re.sub(r"\W", "_", name)
    return "main" if not name or name == "_lambda_" or name[0].isdigit() else name


def _collect_outputs(result, trace):
    paths, outputs, _ = pytrees.flatten_with_paths(result, none_is_leaf=True)  # a None result is reported
    if not outputs:
        raise TGraphError("the traced function returned nothing; return a tgraph Var (or a tuple of Vars) computed from its inputs")
    for i, (path, out) in enumerate(zip(paths, outputs)):
        if not isinstance(out, Var):
            where = "" if not path else f" (at result{pytrees.path_text(path)})"
            raise TGraphTypeError(
                f"the traced function returned {type(out).__name__}{where}, not a tgraph Var; "
                "return a Var (or a tuple of Vars) computed from its inputs")
        if not trace.encloses(out.trace):
            raise TGraphError(f"output {i} is a Var from graph {out.trace.name!r}, not from this one; "
                              "return values computed from this function's inputs")
    return outputs


@user_facing
def trace(fn, input_specs, name=None):
    """Build a Graph by calling `fn` with one Var per input spec.

    Specs are TensorSpecs (`tgraph.f32[3, 4]`) or example arrays. `fn` returns a Var or a tuple of Vars."""
    if not callable(fn):
        raise TGraphTypeError(f"trace needs a function, got {type(fn).__name__}")
    if isinstance(input_specs, (TensorSpec, np.ndarray)):
        input_specs = [input_specs]
    # One entry per positional argument, each a spec or a pytree of them (dicts, lists, tuples).
    paths, leaves, in_tree = pytrees.flatten_with_paths(list(input_specs))
    specs = []
    for path, leaf in zip(paths, leaves):
        try:
            specs.append(TensorSpec.of(leaf))
        except (TGraphError, TypeError, ValueError) as err:
            raise TGraphTypeError(f"input_specs{pytrees.path_text(path)}: {err}") from None
    name = _function_name(fn, name)
    ctx = dialect.context()
    with ctx, user_location():
        module = ir.Module.create()
        with ir.InsertionPoint(module.body):
            fop = func.FuncOp(name, ir.FunctionType.get([tensor_type(s) for s in specs], []))
            entry = fop.add_entry_block()
        tr = Trace(name, parent=current_trace(), entry=entry)
        stack = _tracing.__dict__.setdefault("stack", [])
        stack.append(tr)
        try:
            with ir.InsertionPoint(entry):
                args = pytrees.unflatten(in_tree, [Var(a, s, tr) for a, s in zip(entry.arguments, specs)])
                result = fn(*args)
                outputs = [tr.lift(o) for o in _collect_outputs(result, tr)]
                out_tree = pytrees.structure(result)
                check_visible([o.value for o in outputs], "the traced function's result")
                func.ReturnOp([o.value for o in outputs])
        finally:
            tr.active = False
            stack.pop()
        captured = list(tr.captures.values())
        fop.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(
            [tensor_type(s) for s in specs] + [c.value.type for c in captured], [o.value.type for o in outputs]))
    graph = Graph(module, name)
    graph.input_tree, graph.output_tree = in_tree, out_tree
    graph.captures = list(tr.captures)
    graph.verify()
    return graph


class Graph:
    """A tg module and the name of its entry function."""

    def __init__(self, module, name=None):
        self.module = module
        if name is None:
            funcs = functions(module)
            if not funcs:
                raise TGraphError("the module has no func.func")
            name = name_of(funcs[0])
        self.name = name
        self.input_tree = self.output_tree = None  # the traced function's argument and result structures
        self.captures = []  # Vars of enclosing traces it uses: its last inputs, in this order

    @staticmethod
    @user_facing
    def parse(text, name=None):
        """A Graph from tg IR text (as printed by `graph.ir()` or tgraph-opt)."""
        with dialect.context():
            try:
                module = ir.Module.parse(text)
            except ir.MLIRError as err:
                raise TGraphError(f"cannot parse the module: {err}") from None
        return Graph(module, name)

    def func_op(self, name=None):
        name = name or self.name
        found = lookup(self.module, name)
        if found is not None:
            return found
        names = self.functions
        raise TGraphError(f"no function @{name} in the module; it has {', '.join('@' + n for n in names) or 'none'}")

    def _signature(self, name=None):
        ftype = ir.FunctionType(ir.TypeAttr(self.func_op(name).attributes["function_type"]).value)
        return [spec_of(t) for t in ftype.inputs], [spec_of(t) for t in ftype.results]

    @property
    def input_specs(self):
        return self._signature()[0]

    @property
    def output_specs(self):
        return self._signature()[1]

    @property
    def functions(self):
        return [name_of(op) for op in functions(self.module)]

    def with_entry(self, name):
        """The same module, entered at another function."""
        self.func_op(name)
        return Graph(self.module, name)

    def verify(self):
        with self.module.context:
            try:
                self.module.operation.verify()
            except ir.MLIRError as err:
                raise TGraphError(f"graph @{self.name} does not verify: {err}") from None
        return True

    def ir(self, debug_info=False):
        """The module's text (with `loc(...)` source locations if debug_info)."""
        return self.module.operation.get_asm(enable_debug_info=debug_info)

    def __str__(self):
        return self.ir()

    def __repr__(self):
        ins = ", ".join(map(str, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        return f"<tgraph.Graph @{self.name}({ins}) -> {outs}>"

    def __call__(self, *arrays):
        """Evaluate with the reference interpreter; arguments and results have the structure of the
        traced function's (pytrees of arrays). Called on Vars inside a traced function, the graph
        inlines itself there and returns Vars."""
        if current_trace() is not None and any(isinstance(a, Var) for a in pytrees.tree_leaves(list(arrays))):
            return self.inline(*arrays)
        if self.input_tree is not None and not pytrees.is_flat_sequence(self.input_tree):
            arrays = pytrees.flatten_like(self.input_tree, list(arrays), "the arguments")
        results = interpret(self.module, *arrays, func=self.name)
        if not pytrees.is_structured_result(self.output_tree):
            return results
        return pytrees.unflatten(self.output_tree, list(results) if isinstance(results, tuple) else [results])

    @user_facing
    def inline(self, *args):
        """Emit this graph's entry function into the function being traced, on `args` (Vars of it,
        or arrays, which become constants), and return its results as Vars in the graph's output
        structure: what calling a Graph on Vars does."""
        tr = current_trace()
        if tr is None:
            raise TGraphError(f"inlining @{self.name} needs a function being traced; call the graph on arrays to evaluate it")
        if self.input_tree is not None and not pytrees.is_flat_sequence(self.input_tree):
            leaves = pytrees.flatten_like(self.input_tree, list(args), f"the arguments of @{self.name}")
        else:
            leaves = list(args)
        if self.captures and len(leaves) == len(self.input_specs) - len(self.captures):
            leaves += self.captures
        specs = self.input_specs
        if len(leaves) != len(specs):
            raise TGraphError(f"@{self.name} takes {len(specs)} inputs ({', '.join(map(str, specs))}), got {len(leaves)}")
        values = []
        for i, (leaf, spec) in enumerate(zip(leaves, specs)):
            if not isinstance(leaf, Var):
                array = np.asarray(leaf, dtype=spec.np_dtype)
                if array.shape != spec.shape:
                    raise TGraphError(f"input {i} of @{self.name}: an array of shape {array.shape} cannot be {spec}")
                leaf = tr.constant(array)
            else:
                leaf = tr.lift(leaf)
            if leaf.spec != spec:
                raise TGraphError(f"input {i} of @{self.name} must be {spec}, got {leaf.spec}")
            values.append(leaf.value)
        check_visible(values, f"calling @{self.name}")
        from tgraph.passes.ad.forward_mode import clone_ops  # API -> passes: loaded on first inlining
        copy_functions(self.module, tr.entry.owner.operation.parent, private_only=True)  # custom rules it calls
        block = self.func_op().regions[0].blocks[0]
        ops = list(block.operations)
        env = dict(zip(block.arguments, values))
        clone_ops(ops[:-1], env)
        outputs = [tr.var(env[v]) for v in ops[-1].operands]
        if pytrees.is_structured_result(self.output_tree):
            return pytrees.unflatten(self.output_tree, outputs)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

