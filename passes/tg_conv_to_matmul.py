"""tg-conv-to-matmul: each static linalg.conv_2d_nchw_fchw becomes im2col plus one matmul
(W[f, (c, i, j)] @ col[(c, i, j), (n, p, q)], or col[(n, p, q), (c, i, j)] @ W^T when the kernel
is larger than the output, as in weight gradients), which the codegen strategy tiles like any
matmul. The columns are copied by one vectorized copy per kernel offset (or output position).

It runs after elementwise fusion, which would otherwise merge the im2col copy back into the
contraction and leave a seven-loop convolution. Convolutions whose column matrix would exceed
`max-columns` elements stay direct."""

import dataclasses

from tgraph.support.mlir import ir

from .base import ModulePass, collect_ops
from .lowering.convolution import im2col_conv
from .pipeline import register_pass


@register_pass
@dataclasses.dataclass
class ConvToMatmul(ModulePass):
    name = "tg-conv-to-matmul"
    summary = "rewrite static NCHW convolutions as im2col and a matmul"

    max_columns: int = dataclasses.field(default=1 << 25, metadata={"help": "largest column matrix, in elements", "min": 0})

    def run(self, module):
        convs = collect_ops(module, lambda op: op.name == "linalg.conv_2d_nchw_fchw" and all(
            isinstance(v.type, ir.RankedTensorType) and v.type.has_static_shape for v in op.operands))
        for op in convs:
            x, w, init = op.operands
            (n, c, _, _), (_, _, kh, kw), (_, _, oh, ow) = (list(v.type.shape) for v in (x, w, init))
            if n * c * kh * kw * oh * ow > self.max_columns:
                continue
            stride = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["strides"])]
            dilation = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["dilations"])]
            with ir.InsertionPoint(op), op.location:
                result = im2col_conv(x, w, init, stride, dilation)
            op.results[0].replace_all_uses_with(result)
            op.erase()
