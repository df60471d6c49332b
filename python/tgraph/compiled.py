"""Compiled objects: a Graph's entry points (its forward function and the derivative functions the
AD passes generate) lowered to native code once and then called many times, as TorchLean's
CompiledScalar/CompiledOut and torch.compile do.

Each entry point is compiled on first use (or all at construction with `eager=True`): the AD pass
it needs runs on a copy of the graph's module, the generated function alone goes through the
target's backend (tgraph.backends: one interface for the CPU and the GPU), and the executable is
kept. Later calls check the arguments and run native code.
"""

import os
import re
import sys
import threading

import numpy as np

from tgraph import dialect
from tgraph.passes.ad.tg_generate_adjoint import GenerateAdjoint
from tgraph.passes.ad.tg_generate_tangent import GenerateTangent

from . import backends
from .autodiff import run_passes
from .backends import TARGETS, cache  # noqa: F401  (TARGETS: the choices of target=)
from .entry_points import EntryPoints, OutEntryPoints, ScalarEntryPoints, Signature
from .graph import Graph, trace
from .backends.common import COLLECTIVES, refuse_partitioned
from .support import mpi, pytrees
from .support.dtypes import TensorSpec, is_float
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.mlir import ir
from .support.symbols import functions, name_of
COLLECTIVE_OP = re.compile(r"\b(" + "|".join(re.escape(name) for name in COLLECTIVES) + r")\b")

GRAPH_STAGES = ("tg", "tangent", "adjoint")  # before any backend: the graph and what the AD passes generate


def _entry_passes(graph, wrt):
    """entry point -> (name of the generated function, the passes that generate it)."""
    f, wrt = graph.name, tuple(wrt)
    return {
        "forward": (f, []),
        "jvp": (f"{f}_jvp", [GenerateTangent(func=f, wrt=wrt, out=f"{f}_jvp")]),
        "vjp": (f"{f}_vjp", [GenerateAdjoint(func=f, wrt=wrt, vjp=f"{f}_vjp")]),
        "grad": (f"{f}_grad", [GenerateAdjoint(func=f, wrt=wrt, vjp=f"{f}_grad", unit_seed=True)]),
        "value_and_grad": (f"{f}_value_and_grad",
                           [GenerateAdjoint(func=f, wrt=wrt, vjp=f"{f}_grad", unit_seed=True)]),
    }


def _only_function(graph, name):
    """A copy of graph's module holding just @name and the private functions (custom rules,
    checkpoints) it may call: what the backend should compile."""
    with dialect.context():
        module = ir.Module.parse(graph.module.operation.get_asm(enable_debug_info=True))
        for op in functions(module):
            private = "sym_visibility" in op.attributes and ir.StringAttr(op.attributes["sym_visibility"]).value == "private"
            if name_of(op) != name and not private:
                op.operation.erase()
    return Graph(module, name)


class _PassLog:
    """(pass name, IR after it) for every pass that ran for one entry point, and the stage each
    pass belongs to; also printed to stderr (TGRAPH_PRINT_IR_AFTER_ALL=1) or written one numbered
    file per pass (dump_ir=DIR)."""

    def __init__(self, entry, dump_dir=None, echo=False):
        self.entry, self.dump_dir, self.echo = entry, dump_dir, echo
        self.records, self.stages = [], []

    def after(self, stage):
        """The IR after the last pass of `stage`."""
        return next(text for (_, text), s in zip(reversed(self.records), reversed(self.stages)) if s == stage)

    def __call__(self, stage, pass_name, module_op):
        text = module_op.get_asm()
        self.records.append((pass_name, text))
        self.stages.append(stage)
        if self.echo:
            print(f"// -----// IR after {pass_name} ({self.entry}) //----- //\n{text}", file=sys.stderr)
        if self.dump_dir:
            os.makedirs(self.dump_dir, exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in pass_name)[:60]
            path = os.path.join(self.dump_dir, f"{self.entry}-{len(self.records):02d}-{safe}.mlir")
            with open(path, "w") as f:
                f.write(text)


class Compiled(EntryPoints):
    """What CompiledScalar and CompiledOut share: the graph, the differentiated inputs, the
    compiled entry points, argument checks and the IR of every stage."""

    def __init__(self, fn, input_specs=None, wrt=None, eager=False, dump_ir=None, target="cpu", name=None,
                 names_from=None, donate=()):
        self.backend = backends.get(target)
        self.target = target
        self.donate = tuple(donate)  # (input leaf, output leaf) pairs of the forward entry (jit's donate_argnums)
        if isinstance(fn, Graph):
            self.graph = fn
        else:
            if input_specs is None:
                raise TGraphError("compiling a Python function needs its input_specs (e.g. [tgraph.f32[3, 4]]); "
                                  "or pass a tgraph.Graph, or use @tgraph.jit")
            self.graph = trace(fn, input_specs, name=name)
        self.input_specs, self.output_specs = self.graph.input_specs, self.graph.output_specs
        fn = names_from or fn
        self._signature = Signature(len(self.input_specs), self.graph.input_tree, self.graph.output_tree,
                                    fn=None if isinstance(fn, Graph) else fn)
        self.arg_names = self._signature.arg_names
        floats = [i for i, s in enumerate(self.input_specs) if is_float(s.dtype)]
        if wrt is None:
            self.wrt = tuple(floats)
        else:
            self.wrt = self._signature.leaves_of(_wrt_indices(wrt, self.arg_names))
            for arg, leaf in self.wrt:
                if leaf not in floats:
                    where = f" ({self._signature.leaf_names[leaf]})" if self._signature.structured_in else ""
                    raise TGraphError(f"wrt={arg}: argument {arg}{where} is "
                                      f"{self.input_specs[leaf]}; only floating-point arguments can be differentiated")
            self.wrt = tuple(sorted({leaf for _, leaf in self.wrt}))
        self.dump_ir = writable_dir(dump_ir) if dump_ir is not None else None
        self._entries, self._graphs, self._logs = {}, {}, {}
        self._lock = threading.Lock()
        if eager:
            for entry in self.ENTRY_POINTS:
                self._executable(entry)

    # ------------------------------------------------------------------ compilation
    def _entry_graph(self, entry):
        """The tg function behind an entry point (the AD pass output for derivatives)."""
        if entry not in self._graphs:
            name, passes = _entry_passes(self.graph, self.wrt)[entry]
            graph = run_passes(self.graph, passes, name) if passes else self.graph
            self._graphs[entry] = _only_function(graph, name)
        return self._graphs[entry]

    def _executable(self, entry, logged=False):
        """The compiled entry point; compiled pass by pass with a log when `logged`, when IR is
        printed (TGRAPH_PRINT_IR_AFTER_ALL=1) or dumped (dump_ir), else in one pass manager run."""
        exe = self._entries.get(entry)
        if exe is None or (logged and entry not in self._logs):
            with self._lock:  # one MLIR compilation at a time; calls from other threads wait for it
                exe = self._entries.get(entry)
                if exe is None or (logged and entry not in self._logs):
                    echo = os.environ.get("TGRAPH_PRINT_IR_AFTER_ALL", "") not in ("", "0")
                    log = _PassLog(entry, self.dump_ir, echo) if logged or echo or self.dump_ir else None
                    if log is not None:
                        self._logs[entry] = log
                        exe = self._compile(entry, log)
                    else:
                        exe = self._cached_or_compiled(entry)
                    self._entries[entry] = exe
        return exe

    def _donated(self, entry):
        return self.donate if entry == "forward" else ()

    def _compile(self, entry, log=None):
        graph = self._entry_graph(entry)
        refuse_partitioned(graph.module)
        return self.backend.compile(graph.module, graph.name, log=log, donate=self._donated(entry))

    def _cached_or_compiled(self, entry):
        """From the on-disk cache (keyed by the graph, before differentiation), else compiled and stored."""
        options = self.backend.cache_options() + ([["donate", [list(p) for p in self.donate]]]
                                                  if self._donated(entry) else [])
        text = self.graph.ir()
        if COLLECTIVE_OP.search(text):  # the code holds this MPI's handles
            options.append(["mpi", mpi.abi() if mpi.module() is not None else None])
        digest = cache.key(text, entry, self.wrt, options)
        exe = self.backend.load_cached(digest)
        if exe is None:
            exe = self._compile(entry)
            self.backend.store_cached(digest, exe)
        return exe

    def _log(self, entry):
        """The pass log of an entry point (compiling it again pass by pass if it was compiled without one)."""
        self._executable(entry, logged=True)
        return self._logs[entry]

    @user_facing
    def pass_log(self, entry="forward"):
        """[(pass name, IR after it)] for every pass that compiled `entry`, from the tg function to LLVM."""
        self._check_entry(entry)
        return list(self._log(entry).records)

    @user_facing
    def ir(self, stage="tg", entry=None):
        """The IR of one stage: 'tg' (the graph), 'tangent' and 'adjoint' (what the AD passes
        generated), then for an entry point (default: forward) the backend's stages, each the IR
        after its last pass. CPU: 'linalg' (fused, on tensors), 'vector' (tiled and vectorized),
        'bufferized' and 'llvm'. target='cuda': 'linalg', 'bufferized', 'gpu' (host code and
        outlined kernels), 'nvvm' (kernels in the LLVM dialect), 'llvm' (the kernels' LLVM IR) and
        'ptx'."""
        stages = self.stages
        if stage not in stages:
            raise TGraphError(f"unknown stage {stage!r} for target {self.target!r}; stages: {', '.join(stages)}")
        if stage == "tg":
            return self.graph.ir()
        if stage == "tangent":
            return self._entry_graph("jvp").ir()
        if stage == "adjoint":
            return self._entry_graph(entry if entry in ("vjp", "grad", "value_and_grad") else self.ADJOINT_ENTRY).ir()
        entry = entry or "forward"
        self._check_entry(entry)
        if stage in self.backend.artifacts:  # not IR after a pass: made from the executable
            return getattr(self._executable(entry), self.backend.artifacts[stage])
        return self._log(entry).after(stage)

    @property
    def stages(self):
        """The names `ir(stage)` takes, for this object's target."""
        return GRAPH_STAGES + self.backend.stages

    def _check_entry(self, entry):
        if entry not in self.ENTRY_POINTS:
            raise TGraphError(f"unknown entry point {entry!r}; this object has {', '.join(self.ENTRY_POINTS)}")

    # ------------------------------------------------------------------ calls
    def run(self, entry, arrays):
        """Run an entry point's native code on checked arrays; a list of fresh arrays."""
        return self._executable(entry).run(arrays)

    def _check(self, method, arrays, specs, what):
        names = self._signature.leaf_names if what == "inputs" else None
        return self.backend.conform(arrays, specs, method, what, names)

    @user_facing
    def check(self, *xs):
        """Run the compiled forward function and the reference interpreter on the same inputs and
        report the largest absolute difference per output (a translation check)."""
        inputs = self._inputs("check", xs)
        compiled = self.run("forward", inputs)
        reference = self.graph(*inputs)
        reference = list(reference) if isinstance(reference, tuple) else [reference]
        report = []
        for i, (c, r) in enumerate(zip(compiled, reference)):
            diff = float(np.max(np.abs(np.asarray(c).astype(np.float64) - r.astype(np.float64)), initial=0.0))
            report.append((i, diff))
        return CheckReport(report)

    def __repr__(self):
        ins = ", ".join(f"{n}: {s}" for n, s in zip(self.arg_names, self.input_specs))
        outs = ", ".join(map(str, self.output_specs))
        compiled = ", ".join(self._entries) or "nothing yet"
        return f"<tgraph.{type(self).__name__} @{self.graph.name}({ins}) -> {outs}; compiled: {compiled}>"


class CheckReport(list):
    """[(output index, largest absolute difference)] between compiled code and the interpreter."""

    def __init__(self, items):
        super().__init__(items)
        self.max_difference = max((d for _, d in items), default=0.0)

    def __str__(self):
        return "; ".join(f"output {i}: max |compiled - interpreter| = {d:.3g}" for i, d in self)


def _wrt_indices(wrt, arg_names):
    """`wrt` (an index, a parameter name, or a sequence of them) as sorted argument indices."""
    items = [wrt] if isinstance(wrt, (int, str)) else wrt
    try:
        items = list(items)
    except TypeError:
        raise TGraphTypeError(f"wrt={wrt!r}: give an argument index, a parameter name, or a list of them") from None
    indices = []
    for item in items:
        if isinstance(item, str):
            if item not in arg_names:
                raise TGraphError(f"wrt={item!r}: no argument of that name; the arguments are "
                                  + ", ".join(map(repr, arg_names)))
            item = arg_names.index(item)
        elif isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TGraphTypeError(f"wrt={item!r}: give an argument index (an int) or a parameter name")
        indices.append(int(item))
    return tuple(sorted(set(indices)))


def writable_dir(path, where="dump_ir="):
    """A folder for output files (`dump_ir`'s, an export's), made now if missing: a path that
    cannot hold the files is an error at once, not an OSError from inside the work."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise TGraphError(f"{where}{path!r}: cannot make that folder ({err.strerror})") from None
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise TGraphError(f"{where}{path!r}: not a folder this process can write to")
    return path


class CompiledScalar(ScalarEntryPoints, Compiled):
    """A compiled function with one scalar (0-d) floating-point output."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        outs = self.output_specs
        if len(outs) != 1 or outs[0].shape != () or not is_float(outs[0].dtype):
            raise TGraphError(f"compile_scalar needs one scalar floating-point output; @{self.graph.name} returns "
                              f"({', '.join(map(str, outs))}). Use tgraph.compile_out for other outputs")


class CompiledOut(OutEntryPoints, Compiled):
    """A compiled function with any outputs: arrays, several results."""


@user_facing
def compile_scalar(fn, input_specs=None, wrt=None, eager=False, dump_ir=None, target="cpu"):
    """A CompiledScalar for `fn` (a Python function traced at input_specs, or a tgraph.Graph)."""
    return CompiledScalar(fn, input_specs, wrt=wrt, eager=eager, dump_ir=dump_ir, target=target)


@user_facing
def compile_out(fn, input_specs=None, wrt=None, eager=False, dump_ir=None, target="cpu"):
    """A CompiledOut for `fn` (a Python function traced at input_specs, or a tgraph.Graph)."""
    return CompiledOut(fn, input_specs, wrt=wrt, eager=eager, dump_ir=dump_ir, target=target)


class jit:
    """`@tgraph.jit`: input specs come from the first call's arrays; one compilation per distinct
    signature of shapes and dtypes, cached (as jax.jit). `.grad`, `.value_and_grad`, `.jvp` and
    `.vjp` run the derivative entry points at the same signature. `@jit(wrt=[0])` chooses the
    differentiated arguments (default: every floating-point one). `donate_argnums` (CPU): the
    arrays of those arguments are reused as the outputs of the same shape and dtype (JAX's rule):
    the call writes the results into them and returns them."""

    def __init__(self, fn=None, *, wrt=None, target="cpu", donate_argnums=()):
        if fn is not None and not callable(fn):
            raise TGraphTypeError(f"jit needs a function, got {type(fn).__name__}")
        self.fn, self.wrt, self.target = fn, wrt, target
        self.donate_argnums = _donate_argnums(donate_argnums, target)
        self._cache = {}
        self._lock = threading.Lock()
        if fn is not None:
            self.__wrapped__ = fn
            self.__name__ = getattr(fn, "__name__", "jit")
            self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args):
        if self.fn is None:  # @jit(wrt=...) used as a decorator factory
            (fn,) = args
            return jit(fn, wrt=self.wrt, target=self.target, donate_argnums=self.donate_argnums)
        return self._call(*args)

    @user_facing
    def _call(self, *args):
        compiled = self.compiled(*args)
        return compiled.results(compiled.run("forward", compiled._forward_inputs(self.__name__, args)))

    @user_facing
    def compiled(self, *args):
        """The compiled object for these arguments' shapes and dtypes (compiling on first sight):
        a CompiledScalar when the function returns one float scalar, else a CompiledOut."""
        paths, leaves, tree = pytrees.flatten_with_paths(list(args))
        specs = (tree, tuple(_spec_of_argument(a, f"{p[0]}{pytrees.path_text(p[1:])}") for p, a in zip(paths, leaves)))
        compiled = self._cache.get(specs)
        if compiled is None:
            with self._lock:
                compiled = self._cache.get(specs)
                if compiled is None:
                    graph = trace(self.fn, pytrees.unflatten(tree, specs[1]), name=getattr(self.fn, "__name__", None))
                    outs = graph.output_specs
                    kind = CompiledScalar if len(outs) == 1 and outs[0].shape == () and is_float(outs[0].dtype) else CompiledOut
                    donate = _donation_pairs(paths, graph, self.donate_argnums)
                    compiled = kind(graph, wrt=self.wrt, target=self.target, names_from=self.fn, donate=donate)
                    self._cache[specs] = compiled
        return compiled

    @property
    def cache_size(self):
        return len(self._cache)

    def _scalar(self, args, what):
        compiled = self.compiled(*args)
        if not isinstance(compiled, CompiledScalar):
            raise TGraphError(f"{self.__name__}.{what} needs one scalar floating-point output; it returns "
                              f"({', '.join(map(str, compiled.output_specs))}). Use .vjp with a seed")
        return compiled

    @user_facing
    def grad(self, *args):
        """Gradients (seed 1) of a scalar output, one per argument (None where not differentiated)."""
        return self._scalar(args, "grad").backward(*args)

    @user_facing
    def value_and_grad(self, *args):
        return self._scalar(args, "value_and_grad").value_and_grad(*args)

    @user_facing
    def jvp(self, xs, dxs):
        """(y, dy): outputs and their tangents, as arrays."""
        compiled = self.compiled(*xs)
        results = compiled.run("jvp", compiled._inputs("jvp", xs) + compiled._tangents("jvp", dxs))
        n = len(compiled.output_specs)
        return compiled.results(results[:n]), compiled._signature.output_tangents(results[n:], compiled.output_specs)

    @user_facing
    def vjp(self, xs, seed):
        """Gradients of <seed, f(xs)>, one per argument (None where not differentiated)."""
        return self.compiled(*xs)._vjp("vjp", xs, seed)


def _donate_argnums(donate_argnums, target):
    nums = (donate_argnums,) if isinstance(donate_argnums, int) else tuple(donate_argnums)
    if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in nums):
        raise TGraphTypeError(f"jit: donate_argnums={donate_argnums!r}: give argument indices")
    if nums and not backends.get(target).donates:
        raise TGraphError(f"jit: donate_argnums is not implemented for target={target!r} yet (it is for 'cpu')")
    return nums


def _donation_pairs(paths, graph, donate_argnums):
    """(input leaf, output leaf) pairs: each leaf of a donated argument gives its array to the first
    output not yet taken with the same shape and dtype (JAX's rule); leaves without one keep theirs."""
    if not donate_argnums:
        return ()
    taken, pairs = set(), []
    outputs = graph.output_specs
    for leaf, path in enumerate(paths):
        if path[0] not in donate_argnums:
            continue
        spec = graph.input_specs[leaf]
        match = next((k for k, out in enumerate(outputs) if k not in taken and out == spec), None)
        if match is not None:
            taken.add(match)
            pairs.append((leaf, match))
    return tuple(pairs)


def _spec_of_argument(a, where):
    interface = getattr(a, "__cuda_array_interface__", None)
    if interface is not None:  # on the GPU: the spec from its shape and dtype, without a copy
        a = np.lib.stride_tricks.as_strided(np.empty(1, np.dtype(interface["typestr"])), tuple(interface["shape"]),
                                            [0] * len(interface["shape"]))
    if isinstance(a, (int, float, bool)):
        return TensorSpec((), "f32" if isinstance(a, float) else "i1" if isinstance(a, bool) else "i64")
    try:
        return TensorSpec.of(np.asarray(a))
    except TGraphError as err:
        raise TGraphTypeError(f"jit: argument {where} cannot be a tensor: {err}") from None
