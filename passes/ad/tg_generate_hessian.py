"""tg-generate-hessian: the full Hessian of a scalar function, for small inputs. For
`@f(x1..xn) -> (y)` emit `@f_hessian(x1..xn) -> (H[i][j] for each pair of wrt inputs, row-major)`,
of shape x_i.shape + x_j.shape. It generates `@f_grad` (tg-generate-adjoint, seed 1) and its JVP
`@f_hvp` (tg-generate-tangent, forward over reverse: Hessian-vector products), then calls the HVP
once per element k of each wrt input with the basis tangent e_k: column k of a block is H e_k."""

import dataclasses

import numpy as np

from tgraph.dialect import create, spec_of, tensor_type
from tgraph.support.dtypes import TensorSpec, is_float
from tgraph.support.mlir import func, ir
from tgraph.support.symbols import name_of

from ..base import ModulePass, PassFailure
from ..pipeline import register_pass
from .common import differentiable_inputs, find_function, insert_function
from .tg_generate_adjoint import GenerateAdjoint
from .tg_generate_tangent import GenerateTangent


def _hessian_columns(hvp_op, xs, specs, wrt, j):
    """H[i][j] for every i: one HVP per element k of x_j, the basis tangent e_k in x_j's slot."""
    columns = [[] for _ in wrt]
    spec_j = specs[j]
    for k in range(spec_j.size):
        tangents = []
        for i in wrt:
            basis = np.zeros(specs[i].size, specs[i].np_dtype)
            if i == j:
                basis[k] = 1
            tangents.append(create("constant", [], {"value": basis.reshape(specs[i].shape)})[0])
        products = func.CallOp(hvp_op, list(xs) + tangents).results
        for a, (i, hv) in enumerate(zip(wrt, products)):
            columns[a].append(create("reshape", [hv], {"shape": (specs[i].size, 1)})[0])
    blocks = []
    for a, i in enumerate(wrt):
        block = columns[a][0]
        for col in columns[a][1:]:
            block = create("concat", [block, col], {"axis": 1})[0]
        blocks.append(create("reshape", [block], {"shape": specs[i].shape + spec_j.shape})[0])
    return blocks


@register_pass
@dataclasses.dataclass
class GenerateHessian(ModulePass):
    name = "tg-generate-hessian"
    summary = "the full Hessian of a scalar function: @f_hessian(x...) -> (H[i][j]...), from HVPs of basis vectors"

    func: str = dataclasses.field(default="", metadata={"help": "function to differentiate (default: the first)"})
    wrt: tuple[int, ...] = dataclasses.field(default=(), metadata={"help": "differentiated arguments (default: all float)"})
    out: str = dataclasses.field(default="", metadata={"help": "name of the generated function (default: <func>_hessian)"})
    max_inputs: int = dataclasses.field(default=512, metadata={
        "help": "the most input elements (one HVP is emitted per element)", "min": 1})

    def run(self, module):
        fop = find_function(module, self.func)
        name = name_of(fop)
        ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
        specs, outs = [spec_of(t) for t in ftype.inputs], [spec_of(t) for t in ftype.results]
        if len(outs) != 1 or outs[0].shape != () or not is_float(outs[0].dtype):
            raise PassFailure(f"the Hessian needs one scalar floating-point result; @{name} returns "
                              f"({', '.join(map(str, outs))})", fop.location)
        wrt = tuple(differentiable_inputs(fop, self.wrt))
        total = sum(specs[i].size for i in wrt)
        if total > self.max_inputs:
            raise PassFailure(f"{total} input elements would need {total} Hessian-vector products "
                              f"(max-inputs={self.max_inputs}); use Hessian-vector products instead", fop.location)
        GenerateAdjoint(func=name, wrt=wrt, vjp=f"{name}_grad", unit_seed=True).run(module)
        GenerateTangent(func=f"{name}_grad", wrt=wrt, out=f"{name}_hvp", primal=False).run(module)
        hvp_op = find_function(module, f"{name}_hvp")
        with hvp_op.location:
            results = [tensor_type(TensorSpec(specs[i].shape + specs[j].shape, specs[i].dtype)) for i in wrt for j in wrt]
            _, entry = insert_function(module, hvp_op, self.out or f"{name}_hessian", [tensor_type(s) for s in specs],
                                       results)
            with ir.InsertionPoint(entry):
                blocks = [_hessian_columns(hvp_op, entry.arguments, specs, wrt, j) for j in wrt]
                func.ReturnOp([blocks[b][a] for a in range(len(wrt)) for b in range(len(wrt))])
