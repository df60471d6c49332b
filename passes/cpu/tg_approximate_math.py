"""tg-approximate-math: math ops on f32 (f16, bf16) that LLVM would leave to libm -> arith ops.

convert-math-to-llvm leaves exp, log, tanh, sin, ... as calls into libm, and a call in a loop body
stops LLVM's vectorizers (libm's tanhf is ~20x slower than the code here). Each op becomes
straight-line arith code -- range reduction, a polynomial, integer tricks on the float bits -- that
vectorizes: on a vector<N x f32> the same sequence is emitted on vectors, with splat constants. The
expansions are in tgraph.dialect.approximations (upstream math ops) and in the op records
(`approximations`, for a math op only one tg op uses); their accuracy is stated there.

sin/cos choose their argument reduction per vector with an scf.if, lowered by the convert-scf-to-cf
that follows the pass in the pipeline. A block with many sin/cos (more than `outline-above`) calls
one outlined, noinline function per op and type instead, so that the branches do not split a long
block thousands of times (see OutlinedMath). f16 and bf16 are computed in f32 and rounded back;
f64 ops, and math ops LLVM already vectorizes (sqrt, rsqrt, absf), are left alone.

Runs before arith-expand (which lowers the bf16 extf/truncf emitted here) and convert-math-to-llvm."""

import collections
import dataclasses

from tgraph.dialect import OPS
from tgraph.dialect.approximations import MATH_EXPANSIONS, ArithEmitter
from tgraph.support.mlir import arith, func, ir

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass

# The upstream ops' expansions, and those the op records add for the math ops of their bodies.
EXPANSIONS = dict(MATH_EXPANSIONS, **{name: fn for opdef in OPS.values() for name, fn in opdef.approximations.items()})
COMPUTED_IN_F32 = ("f16", "bf16", "f32")
BRANCHING = ("math.sin", "math.cos")  # their expansion holds an scf.if


def expandable(op):
    """Whether op's expansion is wanted: f32, f16 or bf16, as scalars or fixed-size vectors (f64,
    tensors and scalable vectors are left alone)."""
    type_ = op.results[0].type
    vector = isinstance(type_, ir.VectorType)
    element = str(type_.element_type if vector else type_)
    return element in COMPUTED_IN_F32 and not (vector and any(type_.scalable_dims))


def expand(name, type_, operands):
    """The Value computing math op `name` of result type `type_` on `operands`, built at the
    insertion point."""
    vector = isinstance(type_, ir.VectorType)
    b = ArithEmitter(ir.F32Type.get(), list(type_.shape) if vector else None)
    if str(type_.element_type if vector else type_) != "f32":
        result = EXPANSIONS[name](b, *[arith.extf(b.float_type, v) for v in operands])
        return arith.truncf(type_, result)
    return EXPANSIONS[name](b, *operands)


class OutlinedMath:
    """One private function per (op, type) holding the op's expansion, called where the op was.
    Each scf.if splits its block, and splitting moves the rest of the block: thousands of sin/cos
    in one long straight-line block (a long graph's gradient) made convert-scf-to-cf quadratic.
    The functions are noinline, so that LLVM's inliner does not split that block instead."""

    def __init__(self, module):
        self.body, self.functions = module.regions[0].blocks[0], {}
        self.taken = {ir.StringAttr(op.attributes["sym_name"]).value for op in self.body.operations
                      if "sym_name" in op.attributes}

    def call(self, op):
        key = (op.name, str(op.results[0].type))
        if key not in self.functions:
            stem = f"tg_{op.name.split('.')[1]}_" + "".join(c if c.isalnum() else "_" for c in key[1]).strip("_")
            name, n = stem, 0
            while name in self.taken:
                n += 1
                name = f"{stem}_{n}"
            self.taken.add(name)
            inputs, result = [v.type for v in op.operands], op.results[0].type
            with ir.InsertionPoint(self.body), ir.Location.unknown():
                function = func.FuncOp(name, (inputs, [result]), visibility="private")
                # func-to-llvm moves "llvm."-prefixed attributes onto the llvm.func, prefix dropped
                function.attributes["llvm.no_inline"] = ir.UnitAttr.get()
                function.attributes["llvm.linkage"] = ir.Attribute.parse("#llvm.linkage<internal>")
                with ir.InsertionPoint(function.add_entry_block()):
                    func.ReturnOp([expand(op.name, result, list(function.arguments))])
            self.functions[key] = function
        return func.CallOp(self.functions[key], list(op.operands)).result


@register_pass
@dataclasses.dataclass
class ApproximateMath(ModulePass):
    name = "tg-approximate-math"
    summary = "math.exp/expm1/log/log1p/tanh/sin/cos/powf on f32 (f16, bf16) -> polynomials in arith ops"

    outline_above: int = dataclasses.field(default=16, metadata={
        "help": "a block with more sin/cos than this calls one outlined function per type instead", "min": 0})

    def run(self, module):
        ops = collect_ops(module, lambda op: op.name in EXPANSIONS and expandable(op))
        branching = collections.Counter(op.operation.block for op in ops if op.name in BRANCHING)
        outlined = OutlinedMath(module)
        for op in ops:
            with ir.InsertionPoint(op), op.location:
                if op.name in BRANCHING and branching[op.operation.block] > self.outline_above:
                    result = outlined.call(op)
                else:
                    result = expand(op.name, op.results[0].type, list(op.operands))
            op.results[0].replace_all_uses_with(result)
            op.erase()
