"""What both backends do before their own code generation: read the entry function of a module,
and run a pipeline on it with errors that name the failing pass."""

import numpy as np

from tgraph.dialect import VerifyError, spec_of
from tgraph.passes import PipelineError, build_pass_manager
from tgraph.passes.pipeline import expand, parse_pipeline

from ..support.errors import TGraphError, TGraphTypeError
from ..support.mlir import ir
from ..support.symbols import functions, lookup, name_of


def _diagnostics(err):
    lines = [f"{d.location}: {d.message}" for d in err.error_diagnostics]
    return "\n".join(lines) or str(err).strip()


def parse_entry(module, func_name, who, where):
    """(a fresh ir.Module, the entry's name, input specs, output specs) from tg IR text, an
    ir.Module, or a tgraph.Graph (anything with an ir.Module `.module` and an entry `.name`);
    call inside dialect.context(). TGraphErrors name `who` and `where`."""
    if isinstance(getattr(module, "module", None), ir.Module):  # a Graph
        func_name = func_name or module.name
        module = module.module
    if isinstance(module, ir.Module):
        module = module.operation.get_asm(enable_debug_info=True)
    if not isinstance(module, str):
        raise TGraphTypeError(f"{who} needs tg IR text, an ir.Module or a tgraph.Graph, got {type(module).__name__}")
    try:
        parsed = ir.Module.parse(module)
    except ir.MLIRError as err:
        raise TGraphError(f"cannot parse the module: {_diagnostics(err)}") from None
    funcs = functions(parsed)
    if not funcs:
        raise TGraphError("the module has no func.func")
    name = func_name or name_of(funcs[0])
    fop = lookup(parsed, name)
    if fop is None:
        raise TGraphError(f"no function @{name} in the module; it has {', '.join('@' + name_of(f) for f in funcs)}")
    ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
    try:
        inputs, outputs = [spec_of(t) for t in ftype.inputs], [spec_of(t) for t in ftype.results]
    except VerifyError as err:
        raise TGraphError(f"@{name} cannot run on {where}: its signature must be static tensors "
                          f"of tg element types ({err})") from None
    return parsed, name, inputs, outputs


# Ops across processes (MPI): collectives, and the sharding annotation partitioned into them.
COLLECTIVES = ("tg.all_reduce", "tg.all_gather", "tg.reduce_scatter", "tg.broadcast", "tg.reduce_to_root", "tg.shard")


def _first_op(module, predicate):
    """The first op under `module` for which predicate(op) holds, or None (the walk stops there)."""
    found = []

    def visit(op):  # (an exception raised in here would reach the caller as a RuntimeError)
        if predicate(op):
            found.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    module.operation.walk(visit)
    return found[0] if found else None


def _processes(shard_op):
    return int(np.prod(list(ir.DenseI64ArrayAttr(shard_op.attributes["grid"]))))


def refuse_partitioned(module):
    """A TGraphError for a tg.shard over more than one process outside tg.distributed.spmd: the
    partitioned code takes each process's blocks, not the whole arrays a compiled object passes."""
    op = _first_op(module, lambda op: op.name == "tg.shard" and _processes(op) > 1)
    if op is not None:
        raise TGraphError(f"tg.shard over a grid of {_processes(op)} processes at {op.location}: compile the function "
                          "with tg.distributed.spmd, which takes and returns each process's blocks (jit and compiled "
                          "objects pass whole arrays)")


def refuse_collectives(module, where):
    """A TGraphError naming the first MPI op (collective or shard): they run on the CPU target only."""
    op = _first_op(module, lambda op: op.name in COLLECTIVES)
    if op is not None:
        raise TGraphError(f"{op.name} at {op.location}: collectives run on the CPU target only, not on {where}")


def run_pipeline(module, pipeline, log, what):
    """Run a pipeline (text, or a sequence of passes.stages.Stage) on module: in one pass manager
    run, or pass by pass calling `log(stage name or None, pass, module operation)` after each.
    On failure a TGraphError names the pass that failed and carries MLIR's diagnostics (with the
    ops' locations): after a one-run failure the pipeline is run again pass by pass, on a copy
    kept for the purpose, to find that pass."""
    def fail(stage, err):
        detail = _diagnostics(err) if isinstance(err, ir.MLIRError) else str(err)
        head = f"cannot compile {what}" + (f": the pass {stage} failed" if stage else "")
        raise TGraphError(f"{head}:\n{detail}") from None

    stages = [(None, pipeline)] if isinstance(pipeline, str) else [(s.name, ", ".join(s.passes)) for s in pipeline]
    pipeline = ", ".join(text for _, text in stages if text)
    try:
        elements = [(stage, element) for stage, text in stages for _, _, element in expand(parse_pipeline(text))]
    except PipelineError as err:
        fail(None, err)
    if log is None:
        backup = module.operation.clone()
        try:
            pm = build_pass_manager(pipeline)
            pm.enable_verifier(False)  # half the pipeline's time: verify once, at the end, instead
            pm.run(module.operation)
            module.operation.verify()
            return
        except (ir.MLIRError, PipelineError) as err:
            first_error = err
        # Find the failing pass on the copy; its diagnostics are the ones to report.
        try:
            for _, element in elements:
                build_pass_manager(element).run(backup)
                backup.verify()
        except (ir.MLIRError, PipelineError) as err:
            fail(element, err)
        finally:
            backup.erase()
        fail(None, first_error)  # only the one-run pipeline failed (never seen): report it as it is
    for stage, element in elements:
        try:
            build_pass_manager(element).run(module.operation)
        except (ir.MLIRError, PipelineError) as err:
            fail(element, err)
        log(stage, element, module.operation)


def read_only_arguments(fop):
    """Mark every argument `bufferization.writable = false`: bufferization then copies before
    writing, so the caller's arrays (passed in place) are never changed."""
    n_args = len(ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value).inputs)
    existing = list(ir.ArrayAttr(fop.attributes["arg_attrs"])) if "arg_attrs" in fop.attributes else [None] * n_args
    dicts = []
    for attrs in existing:
        entries = {a.name: a.attr for a in ir.DictAttr(attrs)} if attrs is not None else {}
        entries["bufferization.writable"] = ir.BoolAttr.get(False)
        dicts.append(ir.DictAttr.get(entries))
    fop.attributes["arg_attrs"] = ir.ArrayAttr.get(dicts)
