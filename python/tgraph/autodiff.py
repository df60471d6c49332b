"""Derivatives of Graphs: each function runs the AD passes on a copy of the module and returns
the generated function as a new Graph (which the reference interpreter runs before any lowering)."""

from tgraph import dialect
from tgraph.passes import build_pass_manager
from tgraph.passes.tg_generate_tangent import GenerateTangent

from .errors import TGraphError, user_facing
from .graph import Graph
from .mlir import ir


def run_passes(graph, passes, entry):
    """Copy graph's module, run `passes` (then canonicalize and cse), return the Graph entered at `entry`."""
    with dialect.context():
        module = ir.Module.parse(graph.module.operation.get_asm(enable_debug_info=True))
        pm = build_pass_manager(list(passes) + ["canonicalize", "cse"])
        try:
            pm.run(module.operation)
        except ir.MLIRError as err:
            details = "; ".join(f"{d.location}: {d.message}" for d in err.error_diagnostics) or str(err)
            raise TGraphError(f"differentiating @{graph.name} failed: {details}") from None
    return Graph(module, entry)


@user_facing
def jvp(graph, wrt=None):
    """Forward mode: a Graph `(x..., dx for each wrt input) -> (y..., dy...)`."""
    name = f"{graph.name}_jvp"
    return run_passes(graph, [GenerateTangent(func=graph.name, wrt=tuple(wrt or ()), out=name)], name)
