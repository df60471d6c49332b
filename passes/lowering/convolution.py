"""conv2d -> linalg.conv_2d_nchw_fchw (groups: linalg.conv_2d_ngchw_gfchw on grouped views);
pools -> linalg.pooling_nchw_max / _sum. Padding (negative: cropping) and input dilation are
materialized first by one pad, so the named ops see valid windows only. `im2col_conv` rewrites
a convolution as one matmul; the CPU pipeline applies it after fusion (tg-conv-to-matmul)."""

import numpy as np

from tgraph.support.dtypes import TensorSpec
from tgraph.support.mlir import arith, linalg, tensor

from .builders import (affine_map, compute_dtype, elementwise, empty, extract_slice, full, generic, identity_map,
                       lowest, narrow, pad, reshape, rounded, scalar, spec, tensor_of, widen_to)



def _pad_hw(x, padding, value, dilation=(1, 1)):
    top, bottom, left, right = padding
    if tuple(padding) == (0, 0, 0, 0) and tuple(dilation) == (1, 1):
        return x
    return pad(x, (0, 0, top, left), (0, 0, bottom, right), (0, 0, dilation[0] - 1, dilation[1] - 1), value)


# At most this many output channels (and many more output positions): the matmul's rows are the
# output positions, read from the columns transposed, so each row tile reuses the few filters (the
# benchmark CNN's input gradient, 32 channels: 7.2 -> 5.9 ms).
FEW_FILTERS = 32


def _copy_into(col, slot_offsets, slot_sizes, window, window_map):
    """`window` copied (through `window_map`, a permutation) into the slot of `col` at
    `slot_offsets` (its unit dimensions dropped): a copy the codegen vectorizes along the innermost
    dimension and threads."""
    dtype = spec(col).dtype
    slot_type = tensor_of(tuple(spec(window).shape[d] for d in window_map), dtype)
    strides = [1] * len(slot_sizes)
    slot = tensor.extract_slice(slot_type, col, [], [], [], slot_offsets, slot_sizes, strides)
    rank = len(window_map)
    inverse = [window_map.index(d) for d in range(rank)]  # loop (slot dimension) of each window dimension
    copied = generic([window], [affine_map(rank, inverse)], slot, identity_map(rank), ["parallel"] * rank,
                     lambda v, _: v)
    return tensor.insert_slice(copied, col, [], [], [], slot_offsets, slot_sizes, strides)


def im2col_conv(x, w, init, stride, dilation):
    """A convolution as one matmul of a column matrix, built by strided copies of x (each a copy
    with a permutation map, which the codegen vectorizes along a row and threads; one copy of six
    loops with sums in its input map would stay scalar). Two layouts, whichever takes fewer copies:

    - per kernel offset (i, j): col[(c, i, j), (n, p, q)] = x[n, c, p*s0 + i*d0, q*s1 + j*d1], then
      W[f, (c, i, j)] @ col. Forward convolutions: a small kernel over a large output.
    - per output position (p, q): col[(n, p, q), (c, i, j)] = the same elements, then
      col @ W^T[(c, i, j), f].
    With few filters (FEW_FILTERS) the first layout's product is computed transposed, col^T @ W^T. The weight gradients the AD rules write as convolutions: a kernel as
      large as the image, a few output positions.
    `init` is the accumulator the convolution adds into (its output operand)."""
    (n, c, _, _), (f, _, kh, kw) = spec(x).shape, spec(w).shape
    out_shape, acc_dtype, dtype = spec(init).shape, spec(init).dtype, spec(x).dtype
    _, _, oh, ow = out_shape
    k, p = c * kh * kw, oh * ow
    by_output = oh * ow < kh * kw
    if by_output:
        col = empty((n, oh, ow, c, kh, kw), dtype)
        for i in range(oh):
            for j in range(ow):
                window = extract_slice(x, (0, 0, i * stride[0], j * stride[1]), (n, c, kh, kw), (1, 1) + tuple(dilation))
                col = _copy_into(col, [0, i, j, 0, 0, 0], [n, 1, 1, c, kh, kw], window, [0, 1, 2, 3])
        col, weights = reshape(col, (n * p, k)), reshape(w, (f, k))
        weights = generic([weights], [affine_map(2, [1, 0])], empty((k, f), spec(w).dtype), identity_map(2),
                          ["parallel"] * 2, lambda v, _: v)
    else:
        col = empty((c, kh, kw, n, oh, ow), dtype)
        for i in range(kh):
            for j in range(kw):
                window = extract_slice(x, (0, 0, i * dilation[0], j * dilation[1]), (n, c, oh, ow), (1, 1) + tuple(stride))
                col = _copy_into(col, [0, i, j, 0, 0, 0], [c, 1, 1, n, oh, ow], window, [1, 0, 2, 3])
        weights, col = reshape(w, (f, k)), reshape(col, (k, n * p))
    if spec(x).dtype != acc_dtype:  # f16/bf16, or a preferred_element_type: the matmul accumulates in the wider type
        weights, col = (elementwise([v], TensorSpec(spec(v).shape, acc_dtype), lambda e: widen_to(e, acc_dtype))
                        for v in (weights, col))
    if by_output:  # product[n, p, f]
        product = reshape(linalg.matmul(col, weights, outs=[full((n * p, f), acc_dtype, 0)]), (n, p, f))
        order = [0, 2, 1]
    elif f <= FEW_FILTERS and n * p >= 16 * f:  # product[n, p, f] = col^T @ W^T: the long dimension in rows
        transposed = generic([weights], [affine_map(2, [1, 0])], empty((k, f), acc_dtype), identity_map(2),
                             ["parallel"] * 2, lambda v, _: v)
        product = generic([col, transposed], [affine_map(3, [2, 0]), affine_map(3, [2, 1])],
                          full((n * p, f), acc_dtype, 0), affine_map(3, [0, 1]), ["parallel", "parallel", "reduction"],
                          lambda a, b, total: arith.addf(total, arith.mulf(a, b)))
        product = reshape(product, (n, p, f))
        order = [0, 2, 1]
    else:  # product[f, n, p]
        product = reshape(linalg.matmul(weights, col, outs=[full((f, n * p), acc_dtype, 0)]), (f, n, p))
        order = [1, 0, 2]
    # out[n, f, p] = init[n, f, p] + product at (n, f, p)
    swapped = generic([product, reshape(init, (n, f, p))], [affine_map(3, order), identity_map(3)],
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
