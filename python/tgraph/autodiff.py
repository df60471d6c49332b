"""Derivatives of Graphs: each function runs the AD passes on a copy of the module and returns
the generated function as a new Graph (which the reference interpreter runs before any lowering)."""

import numpy as np

from tgraph import dialect
from tgraph.passes import build_pass_manager
from tgraph.passes.ad.tg_generate_adjoint import GenerateAdjoint
from tgraph.passes.ad.tg_generate_hessian import GenerateHessian
from tgraph.passes.ad.tg_generate_tangent import GenerateTangent

from .graph import Graph
from .support.errors import TGraphError, user_facing
from .support.mlir import ir

HESSIAN_MAX_INPUTS = 512  # hessian emits one Hessian-vector product per input element


def _copy(graph):
    return ir.Module.parse(graph.module.operation.get_asm(enable_debug_info=True))


def _run(module, passes, graph_name, what="differentiating"):
    try:
        # The verifier after every pass was most of the time: verify what the AD passes generated
        # (before anything else reads it), and the cleaned-up result.
        for stage in (list(passes), ["tg-simplify", "canonicalize", "cse"]):
            pm = build_pass_manager(stage)
            pm.enable_verifier(False)
            pm.run(module.operation)
            module.operation.verify()
    except ir.MLIRError as err:
        details = "; ".join(f"{d.location}: {d.message}" for d in err.error_diagnostics) or str(err)
        raise TGraphError(f"{what} @{graph_name} failed: {details}") from None


def run_passes(graph, passes, entry, what="differentiating"):
    """Copy graph's module, run `passes` (then tg-simplify, canonicalize and cse), return the Graph entered at `entry`."""
    with dialect.context():
        module = _copy(graph)
        _run(module, passes, graph.name, what)
    return Graph(module, entry)


def _wrt(wrt):
    return tuple(int(i) for i in ([wrt] if isinstance(wrt, (int, np.integer)) else wrt or ()))


def _scalar_output(graph, what):
    outs = graph.output_specs
    if len(outs) != 1 or outs[0].shape != () or not outs[0].dtype.startswith(("f", "bf")):
        got = ", ".join(map(str, outs))
        raise TGraphError(f"{what} needs a function with one scalar floating-point output; @{graph.name} returns "
                          f"({got}). Reduce it to a scalar (tgraph.sum, tgraph.mean), or use tgraph.vjp with a seed")


@user_facing
def jvp(graph, wrt=None):
    """Forward mode: a Graph `(x..., dx for each wrt input) -> (y..., dy for each float y)`."""
    name = f"{graph.name}_jvp"
    return run_passes(graph, [GenerateTangent(func=graph.name, wrt=_wrt(wrt), out=name)], name)


@user_facing
def vjp(graph, wrt=None):
    """Reverse mode: a Graph `(x..., seed for each float y) -> (dx for each wrt input)`."""
    name = f"{graph.name}_vjp"
    return run_passes(graph, [GenerateAdjoint(func=graph.name, wrt=_wrt(wrt), vjp=name)], name)


@user_facing
def grad(graph, wrt=None):
    """The gradient of a scalar-valued Graph: `(x...) -> (dx for each wrt input)` (seed 1)."""
    _scalar_output(graph, "grad")
    name = f"{graph.name}_grad"
    return run_passes(graph, [GenerateAdjoint(func=graph.name, wrt=_wrt(wrt), vjp=name, unit_seed=True)], name)


@user_facing
def value_and_grad(graph, wrt=None):
    """`(x...) -> (y, dx for each wrt input)` in one forward and one reverse sweep (seed 1)."""
    _scalar_output(graph, "value_and_grad")
    name = f"{graph.name}_value_and_grad"
    passes = [GenerateAdjoint(func=graph.name, wrt=_wrt(wrt), value_and_grad=name, unit_seed=True)]
    return run_passes(graph, passes, name)


def _hvp_passes(graph, wrt):
    grad_name = f"{graph.name}_grad"
    return [GenerateAdjoint(func=graph.name, wrt=wrt, vjp=grad_name, unit_seed=True),
            GenerateTangent(func=grad_name, wrt=wrt, out=f"{graph.name}_hvp", primal=False)]


@user_facing
def hvp(graph, wrt=None):
    """Hessian-vector products of a scalar-valued Graph, forward over reverse (the JVP of the
    gradient): `(x..., v for each wrt input) -> (H v, one block row per wrt input)`."""
    _scalar_output(graph, "hvp")
    return run_passes(graph, _hvp_passes(graph, _wrt(wrt)), f"{graph.name}_hvp")


@user_facing
def hessian(graph, wrt=None):
    """The full Hessian of a scalar-valued Graph, for small inputs: `(x...) -> H[i][j]` for each pair
    of wrt inputs (row-major), of shape x_i.shape + x_j.shape; column k of a block is H e_k."""
    _scalar_output(graph, "hessian")
    specs = graph.input_specs
    wrt = _wrt(wrt) or tuple(i for i, s in enumerate(specs) if s.dtype.startswith(("f", "bf")))
    total = sum(specs[i].size for i in wrt)
    if total > HESSIAN_MAX_INPUTS:
        raise TGraphError(f"hessian: {total} input elements would need {total} Hessian-vector products "
                          f"(limit {HESSIAN_MAX_INPUTS}); use tgraph.hvp for large inputs")
    name = f"{graph.name}_hessian"
    hessian_pass = GenerateHessian(func=graph.name, wrt=wrt, out=name, max_inputs=HESSIAN_MAX_INPUTS)
    return run_passes(graph, [hessian_pass, "inline"], name)
