"""The `tg` dialect: typed tensor-graph ops on static ranked tensors.

Each family module holds the whole record of each of its ops (`defop`: result-type rule, reference
semantics, scalar body or lowering rule, foldability, approximations, public builder; JVP and VJP
rules beside it). Every other table -- the op list, the lowering rules, what tg-simplify folds,
what tg-approximate-math expands, the elementwise builders of the API -- is derived from `OPS`."""

import os
import threading

from tgraph.support.mlir import ir, passmanager

from . import constants, elementwise, shape, reduction, contraction, convolution, indexing, conversion, random  # noqa: F401
from . import control_flow  # noqa: F401
from . import collectives  # noqa: F401
from .core import OPS, TG, OpDef, VerifyError, create, spec_of, tensor_type, element_type  # noqa: F401

ALL_OPS = list(OPS)  # every op, in definition order (family by family, as imported above)

IRDL_FILE = os.path.join(os.path.dirname(__file__), "tg.irdl.mlir")
REFERENCE_FILE = os.path.join(os.path.dirname(__file__), "OPS.md")

_local = threading.local()
# Creating a context and loading tg into it registers process-wide state in the bindings (the
# dialect's Python classes, type casters, interfaces): two threads doing it at once crash.
_creating = threading.Lock()


def make_context():
    """A new MLIR context with every upstream dialect and `tg` loaded (safe from any thread)."""
    with _creating:
        ctx = ir.Context()
        with ctx:
            TG.load()
    return ctx


def context():
    """This thread's shared MLIR context (tg loaded). MLIR contexts must not be built in from two threads."""
    ctx = getattr(_local, "context", None)
    if ctx is None:
        ctx = _local.context = make_context()
    return ctx


def irdl_text():
    """The dialect as IRDL, as external MLIR tools load it with --irdl-file."""
    with _creating, ir.Context(), ir.Location.unknown():
        module = TG._emit_module()
        passmanager.PassManager.parse("builtin.module(canonicalize, cse)").run(module.operation)
        return "// Generated from the Python definition in dialect/ by `python -m tgraph.dialect`; do not edit.\n" + str(module)



def op_reference():
    """The op reference (dialect/OPS.md), generated from the op definitions."""
    lines = ["# tg op reference", "",
             "Generated from the op definitions in `dialect/` by `python -m tgraph.dialect`; do not edit.",
             "Values are static ranked tensors of f16, bf16, f32, f64, i1, i32 or i64. f16 and bf16 compute in f32",
             "and round each op's result (a contraction with `preferred_element_type` f32 returns its f32 sums).",
             "Every op is Pure and has exactly one result. An optional attribute may be left out (the op's default).",
             ""]
    family = None
    for opdef in OPS.values():
        if opdef.family != family:
            family = opdef.family
            lines += ["", f"## {family}", "", "| op | operands | attributes | meaning |", "|---|---|---|---|"]
        attrs = ", ".join(f"`{k}`: {v.name}" + (" (optional)" if v.optional else "") for k, v in opdef.attrs.items()) or "-"
        operands = ", ".join(opdef.operands) or "-"
        doc = opdef.doc.replace("|", "\\|")
        lines.append(f"| `tg.{opdef.name}` | {operands} | {attrs} | {doc} |")
    lines += ["", "## Derivatives", "",
              "Every op has a JVP rule and a VJP (transpose) rule beside its definition, written in tg ops, so",
              "derivatives can be differentiated again. Not differentiated (a constant to differentiation, zero",
              "derivative): " + ", ".join(f"`tg.{o.name}`" for o in OPS.values() if not o.differentiable) + ";",
              "integer and i1 values never carry derivatives. Conventions at kinks and ties:", ""]
    lines += [f"- `tg.{o.name}`: {o.derivative_note}" for o in OPS.values() if o.derivative_note]
    return "\n".join(lines) + "\n"
