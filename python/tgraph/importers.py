"""Programs written elsewhere, as tg Graphs: `import_stablehlo` (StableHLO text or a portable
artifact), `from_jax` (a JAX function, through jax.export) and `from_torch` (a PyTorch module or
function, through torch.export and torch-mlir's FX importer). The conversion is the
`tg-import-stablehlo` pass; from the Graph on, everything tgraph does applies.

StableHLO is parsed in a context of its own (the StableHLO dialect registered, and unregistered
dialects allowed for the attributes jax.export adds); the converted module is tg, scf and func
ops only, and is read again into tgraph's context."""

import warnings

import numpy as np

from tgraph import dialect
from tgraph.passes import PipelineError, build_pass_manager

from .graph import Graph, trace
from .support import dtypes, pytrees
from .support.dtypes import TensorSpec
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .support.mlir import ir, stablehlo_module
from .support.symbols import functions, name_of


def _stablehlo():
    try:
        return stablehlo_module()
    except ImportError:
        raise TGraphError("importing StableHLO needs the torch-mlir wheel's MLIR bindings (its _stablehlo "
                          "module); the bindings in use lack it") from None


def source_position(location):
    """file:line:col of the innermost source position in an imported op's location (JAX writes
    named call-site chains whose callee is the user's line), or the location's text."""
    def find(loc, depth=0):
        if loc is None or depth > 64:
            return None
        try:  # the typed location (NameLoc, CallSiteLoc, ...): diagnostics give a plain one
            loc = ir.Location.from_attr(loc.attr, loc.context)
        except (AttributeError, TypeError, ValueError):
            pass
        if hasattr(loc, "filename") and hasattr(loc, "start_line"):
            return f"{loc.filename}:{loc.start_line}:{loc.start_col}"
        for inner in ("child_loc", "callee", "caller"):
            found = find(getattr(loc, inner, None), depth + 1)
            if found:
                return found
        for inner in getattr(loc, "locations", []) or []:
            found = find(inner, depth + 1)
            if found:
                return found
        return None
    return find(location) or str(location)


def _diagnostics(err):
    return "\n".join(f"{source_position(d.location)}: {d.message}"
                     for d in getattr(err, "error_diagnostics", [])) or str(err)


@user_facing
def import_stablehlo(module, func="main", input_names=None):
    """A Graph of the StableHLO function `func` in `module` (text, or the bytes of a portable
    artifact such as jax.export's `mlir_module_serialized`). The functions it calls are inlined; an
    op tgraph cannot convert is a TGraphError naming it and its location."""
    shlo = _stablehlo()
    ctx = dialect.make_context()
    shlo.register_dialect(ctx)
    ctx.allow_unregistered_dialects = True
    with ctx, ir.Location.unknown():
        try:
            if isinstance(module, (bytes, bytearray)):
                parsed = shlo.deserialize_portable_artifact(ctx, bytes(module))
            elif isinstance(module, str):
                parsed = ir.Module.parse(module)
            else:
                raise TGraphTypeError(f"import_stablehlo needs StableHLO text or portable-artifact bytes, "
                                      f"got {type(module).__name__}")
        except ir.MLIRError as err:
            raise TGraphError(f"cannot read the StableHLO module: {_diagnostics(err)}") from None
        except (RuntimeError, ValueError) as err:
            raise TGraphError(f"cannot read the StableHLO module: {err}") from None
        names = [name_of(f) for f in functions(parsed)]
        if func not in names:
            raise TGraphError(f"the module has no function @{func}; it has {', '.join('@' + n for n in names)}")
        for other in functions(parsed):  # only `func` and what it calls stay public
            if name_of(other) != func and "sym_visibility" not in other.attributes:
                other.attributes["sym_visibility"] = ir.StringAttr.get("private")
        try:
            build_pass_manager("tg-import-stablehlo").run(parsed.operation)
            parsed.operation.verify()
        except (ir.MLIRError, PipelineError) as err:
            raise TGraphError(f"cannot import @{func}: {_diagnostics(err)}") from None
        text = parsed.operation.get_asm(enable_debug_info=True, print_generic_op_form=True)
    with dialect.context():
        graph = Graph(ir.Module.parse(text), func)
    if input_names is not None:
        graph.input_names = list(input_names)
    return graph


@user_facing
def from_jax(fn, *example_args):
    """A Graph of the JAX function `fn` at the shapes and dtypes of `example_args` (arrays or
    jax.ShapeDtypeStruct, pytrees of them): jax.export, then import_stablehlo. Its inputs are the
    arguments' leaves in JAX's order, the unused ones too; `graph.input_names` names them."""
    try:
        import jax
        from jax import export
    except ImportError:
        raise TGraphError("from_jax needs JAX (pip install jax)") from None
    if not callable(fn):
        raise TGraphTypeError(f"from_jax needs a function, got {type(fn).__name__}")
    paths, leaves, _ = pytrees.flatten_with_paths(list(example_args))
    structs = [jax.ShapeDtypeStruct(np.shape(a), a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype)
               for a in leaves]
    tree = jax.tree_util.tree_structure(tuple(example_args))
    args = jax.tree_util.tree_unflatten(tree, structs)
    try:
        exported = export.export(jax.jit(fn))(*args)
    except Exception as err:  # noqa: BLE001 - JAX's own errors, reported as they are
        raise TGraphError(f"from_jax: jax.export failed: {type(err).__name__}: {err}") from None
    graph = import_stablehlo(exported.mlir_module(), "main")
    kept = list(exported.module_kept_var_idx)
    names = [f"{'x' + str(p[0])}{pytrees.path_text(p[1:])}" for p in paths]
    if len(kept) != len(structs):  # jax.export dropped unused arguments: give them back, unused
        graph = _with_all_inputs(graph, kept, [_jax_spec(s) for s in structs])
    graph.input_names = names
    return graph


def _jax_spec(struct):
    return TensorSpec(tuple(struct.shape), dtypes.from_numpy(np.dtype(struct.dtype)))


def _with_all_inputs(graph, kept, specs):
    """A graph taking an argument per spec, calling `graph` on those at the positions `kept`."""
    return trace(lambda *args: graph.inline(*[args[i] for i in kept]), specs, name=graph.name)


@user_facing
def from_torch(module_or_fn, *example_inputs):
    """A Graph of a PyTorch module (or function of tensors) at the example inputs' shapes and dtypes:
    torch.export and torch-mlir's FX importer to StableHLO, then import_stablehlo. The Graph's
    inputs are the module's parameters in `named_parameters()` order, then the call's inputs
    (`graph.input_names` names them), so tgraph's gradients include the parameters'. Buffers
    (batch-norm statistics) are constants: put a module with batch norm or dropout in eval mode."""
    try:
        import torch
        from torch_mlir import fx
    except ImportError:
        raise TGraphError("from_torch needs PyTorch and torch-mlir (pip install torch torch-mlir)") from None
    module = module_or_fn if isinstance(module_or_fn, torch.nn.Module) else None
    if module is None and not callable(module_or_fn):
        raise TGraphTypeError(f"from_torch needs a torch.nn.Module or a function, got {type(module_or_fn).__name__}")
    params = dict(module.named_parameters()) if module is not None else {}
    buffers = dict(module.named_buffers()) if module is not None else {}
    if module is not None and module.training and any(
            isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Dropout)) for m in module.modules()):
        raise TGraphError("from_torch: the module is in training mode and has batch norm or dropout; call "
                          ".eval() first (tgraph imports their evaluation form: batch statistics as constants, "
                          "no dropout)")
    inputs = [torch.as_tensor(x) for x in example_inputs]
    n_params, n_buffers = len(params), len(buffers)

    class Stateless(torch.nn.Module):  # parameters and buffers as arguments, not weights baked in
        def forward(self, *args):
            if module is None:
                return module_or_fn(*args)
            state = dict(zip(list(params) + list(buffers), args[:n_params + n_buffers]))
            return torch.func.functional_call(module, state, tuple(args[n_params + n_buffers:]))

    arguments = [p.detach() for p in params.values()] + [b.detach() for b in buffers.values()] + inputs
    try:
        with warnings.catch_warnings():  # torch.export's own deprecation notices, not the user's
            warnings.simplefilter("ignore", FutureWarning)
            imported = fx.export_and_import(Stateless(), *arguments, output_type="stablehlo")
    except Exception as err:  # noqa: BLE001 - torch.export's and the FX importer's errors, as they are
        raise TGraphError(f"from_torch: torch.export or torch-mlir's FX importer failed: {type(err).__name__}: "
                          f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}") from None
    graph = import_stablehlo(imported.operation.get_asm(), "main")
    names = list(params) + [f"input{i}" for i in range(len(inputs))]
    if n_buffers:
        constants = [b.detach().cpu().numpy() for b in buffers.values()]
        specs = graph.input_specs[:n_params] + graph.input_specs[n_params + n_buffers:]
        inner = graph
        graph = trace(lambda *args: inner.inline(*args[:n_params], *constants, *args[n_params:]), specs,
                      name=inner.name)
    graph.input_names = names
    return graph
