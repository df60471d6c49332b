"""tg-limit-vector-isa: keep LLVM to the vector instructions of a smaller CPU (target_features on
every llvm.func), so that the code a CPU with `vector-width` f32 lanes would get is built, and
run, on a larger host."""

import dataclasses

from tgraph.support.mlir import ir
from tgraph.support.target import VECTOR_WIDTHS, CpuTarget

from ..base import ModulePass, collect_ops
from ..pipeline import register_pass

# x86 features to turn off so that LLVM's vectors are at most this many f32 lanes: without AVX
# only SSE (4); without AVX-512F, AVX2 and FMA (8). Turning a feature off turns off those built on it.
_X86_LIMITS = {4: ["-avx"], 8: ["-avx512f"]}


@register_pass
@dataclasses.dataclass
class LimitVectorIsa(ModulePass):
    name = "tg-limit-vector-isa"
    summary = "keep LLVM to the vector instructions of a CPU with vector-width f32 lanes (target_features on llvm.func)"

    vector_width: int = dataclasses.field(
        default=16, metadata={"help": "f32 lanes: 4 (SSE), 8 (AVX2) or 16 (any)", "choices": VECTOR_WIDTHS})

    def run(self, module):
        features = _X86_LIMITS.get(self.vector_width) if CpuTarget.host(1, self.vector_width).x86 else None
        if not features:
            return
        attr = ir.Attribute.parse("#llvm.target_features<[" + ", ".join(f'"{f}"' for f in features) + "]>")
        for fn in collect_ops(module, lambda op: op.name == "llvm.func" and op.regions[0].blocks):
            fn.attributes["target_features"] = attr
