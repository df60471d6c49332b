"""conv2d -> linalg.conv_2d_nchw_fchw (groups: linalg.conv_2d_ngchw_gfchw on grouped views);
pools -> linalg.pooling_nchw_max / _sum. Padding (negative: cropping) and input dilation are
materialized first by one pad, so the named ops see valid windows only. `im2col_conv` rewrites
a convolution as one matmul; the CPU pipeline applies it after fusion (tg-conv-to-matmul)."""

import numpy as np

from tgraph.support.dtypes import TensorSpec
from tgraph.support.mlir import arith, ir, linalg

from .builders import (affine_map, compute_dtype, elementwise, empty, full, generic, identity_map, lowest, narrow, pad,
                       reshape, rounded, scalar, spec, widen_to)



def _pad_hw(x, padding, value, dilation=(1, 1)):
    top, bottom, left, right = padding
    if tuple(padding) == (0, 0, 0, 0) and tuple(dilation) == (1, 1):
        return x
    return pad(x, (0, 0, top, left), (0, 0, bottom, right), (0, 0, dilation[0] - 1, dilation[1] - 1), value)


def im2col_conv(x, w, init, stride, dilation):
    """One matmul: W[f, (c, i, j)] @ col[(c, i, j), (n, p, q)] with
    col[c, i, j, n, p, q] = x[n, c, p*s0 + i*d0, q*s1 + j*d1] (additive indexing, no division; the
    innermost copy runs along an output row), then the result's [f, n] dimensions swapped.
    `init` is the accumulator the convolution adds into (its output operand)."""
    (n, c, _, _), (f, _, kh, kw) = spec(x).shape, spec(w).shape
    out_shape, acc_dtype = spec(init).shape, spec(init).dtype
    _, _, oh, ow = out_shape
    d = [ir.AffineDimExpr.get(i) for i in range(6)]
    rows, cols = d[4] * stride[0] + d[1] * dilation[0], d[5] * stride[1] + d[2] * dilation[1]
    col = generic([x], [affine_map(6, [3, 0, rows, cols])], empty((c, kh, kw, n, oh, ow), spec(x).dtype),
                  identity_map(6), ["parallel"] * 6, lambda v, _: v)
    k, p = c * kh * kw, oh * ow
    weights, col = reshape(w, (f, k)), reshape(col, (k, n * p))
    if spec(x).dtype != acc_dtype:  # f16/bf16, or a preferred_element_type: the matmul accumulates in the wider type
        weights, col = (elementwise([v], TensorSpec(spec(v).shape, acc_dtype), lambda e: widen_to(e, acc_dtype))
                        for v in (weights, col))
    product = reshape(linalg.matmul(weights, col, outs=[full((f, n * p), acc_dtype, 0)]), (f, n, p))
    # out[n, f, p] = init[n, f, p] + product[f, n, p]
    swapped = generic([product, reshape(init, (n, f, p))], [affine_map(3, [1, 0, 2]), identity_map(3)],
                      empty((n, f, p), acc_dtype), identity_map(3), ["parallel"] * 3,
                      lambda v, total, _: arith.addf(total, v))
    return reshape(swapped, out_shape)


def _conv2d(out, x, w, stride, padding, lhs_dilation, rhs_dilation, groups, preferred_element_type=None):
    x = _pad_hw(x, padding, 0, lhs_dilation)
    acc_dtype = compute_dtype(out.dtype)  # f16/bf16 accumulate in f32; otherwise the (preferred) result type
    n, o, oh, ow = out.shape
    if groups == 1:
        acc = linalg.conv_2d_nchw_fchw(x, w, outs=[full(out.shape, acc_dtype, 0)], strides=list(stride),
                                       dilations=list(rhs_dilation))
    else:
        (_, c, h, wd), (_, i, kh, kw) = spec(x).shape, spec(w).shape
        grouped = linalg.conv_2d_ngchw_gfchw(
            reshape(x, (n, groups, c // groups, h, wd)), reshape(w, (groups, o // groups, i, kh, kw)),
            outs=[full((n, groups, o // groups, oh, ow), acc_dtype, 0)], strides=list(stride),
            dilations=list(rhs_dilation))
        acc = reshape(grouped, out.shape)
    return rounded(acc, out)


def _max_pool2d(out, x, kernel, stride, padding):
    # Padding is -inf, the identity of max, as in the reference; max is exact in every float type.
    x = _pad_hw(x, padding, -np.inf)
    return linalg.pooling_nchw_max(x, empty(kernel, out.dtype), outs=[full(out.shape, out.dtype, lowest(out.dtype))],
                                   strides=list(stride), dilations=[1, 1])


def _avg_pool2d(out, x, kernel, stride, padding):
    # Padding counts as 0 and is included in the count (count_include_pad), as in the reference.
    x = _pad_hw(x, padding, 0)
    acc_dtype = compute_dtype(out.dtype)
    total = linalg.pooling_nchw_sum(x, empty(kernel, out.dtype), outs=[full(out.shape, acc_dtype, 0)],
                                    strides=list(stride), dilations=[1, 1])
    count = scalar(kernel[0] * kernel[1], acc_dtype)
    return elementwise([total], out, lambda v: narrow(arith.divf(v, count), out.dtype))


RULES = {"conv2d": _conv2d, "max_pool2d": _max_pool2d, "avg_pool2d": _avg_pool2d}
