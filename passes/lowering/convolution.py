"""conv2d -> linalg.conv_2d_nchw_fchw (groups: linalg.conv_2d_ngchw_gfchw on grouped views);
pools -> linalg.pooling_nchw_max / _sum. Padding (negative: cropping) and input dilation are
materialized first by one pad, so the named ops see valid windows only."""

import numpy as np

from tgraph.mlir import arith, linalg

from .builders import compute_dtype, elementwise, empty, full, lowest, narrow, pad, reshape, rounded, scalar, spec


def _pad_hw(x, padding, value, dilation=(1, 1)):
    top, bottom, left, right = padding
    if tuple(padding) == (0, 0, 0, 0) and tuple(dilation) == (1, 1):
        return x
    return pad(x, (0, 0, top, left), (0, 0, bottom, right), (0, 0, dilation[0] - 1, dilation[1] - 1), value)


def _conv2d(out, x, w, stride, padding, lhs_dilation, rhs_dilation, groups):
    x = _pad_hw(x, padding, 0, lhs_dilation)
    acc_dtype = compute_dtype(out.dtype)  # f16/bf16 accumulate in f32
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
