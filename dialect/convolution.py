"""conv2d (NCHW input, OIHW weight) and 2-D pooling over NCHW.

`padding` is (top, bottom, left, right); negative padding crops. conv2d also takes an input
dilation (`lhs_dilation`, zeros between input elements), which makes the transposed convolution
of its derivative a conv2d too."""

import numpy as np

from .ad import add_any, convention, defbilinear, defjvp, deflinear, defvjp, dtype_of, shape_of, unpad, unslice
from .batching import defbatch, defbatch_folded, fold, lift, move_axis, unfold
from .core import ELEMENT_TYPE, I64, I64_ARRAY, check_len, defop, in_preferred_type, optional, preferred_result_type, \
    require
from tgraph.support.dtypes import TensorSpec


def window_output_size(size, kernel, stride, pad_lo, pad_hi, dilation=1, lhs_dilation=1):
    dilated = (size - 1) * lhs_dilation + 1 if size > 0 else 0
    span = (kernel - 1) * dilation + 1
    return (dilated + pad_lo + pad_hi - span) // stride + 1


def _check_window_attrs(stride, padding, *pairs):
    check_len(stride, 2, "stride")
    check_len(padding, 4, "padding (top, bottom, left, right)")
    require(min(stride) >= 1, f"stride {list(stride)} must be positive")
    for name, value in pairs:
        check_len(value, 2, name)
        require(min(value) >= 1, f"{name} {list(value)} must be positive")


def _output_hw(h, w, kh, kw, stride, padding, dilation=(1, 1), lhs_dilation=(1, 1)):
    oh = window_output_size(h, kh, stride[0], padding[0], padding[1], dilation[0], lhs_dilation[0])
    ow = window_output_size(w, kw, stride[1], padding[2], padding[3], dilation[1], lhs_dilation[1])
    require(oh >= 1 and ow >= 1, f"the window ({kh}x{kw}) does not fit the padded input ({h}x{w}): output would be {oh}x{ow}")
    return oh, ow


def _infer_conv(specs, stride, padding, lhs_dilation, rhs_dilation, groups, preferred_element_type=None):
    x, w = specs
    require(x.rank == 4 and w.rank == 4, f"input must be NCHW and weight OIHW (rank 4), got {x} and {w}")
    require(x.dtype == w.dtype and x.dtype in ("f16", "bf16", "f32", "f64"),
            f"input and weight must have one floating-point element type, got {x} and {w}")
    _check_window_attrs(stride, padding, ("lhs_dilation", lhs_dilation), ("rhs_dilation", rhs_dilation))
    require(groups >= 1, f"groups {groups} must be positive")
    n, c, h, wd = x.shape
    o, i, kh, kw = w.shape
    require(c == i * groups, f"input channels {c} must equal weight input channels {i} times groups {groups}")
    require(o % groups == 0, f"output channels {o} must be divisible by groups {groups}")
    return TensorSpec((n, o) + _output_hw(h, wd, kh, kw, stride, padding, rhs_dilation, lhs_dilation),
                      preferred_result_type(x.dtype, preferred_element_type))


def pad_hw(x, padding, value):
    """Pad (or crop, where negative) the last two dimensions of an NCHW array."""
    top, bottom, left, right = padding
    x = np.pad(x, [(0, 0), (0, 0), (max(top, 0), max(bottom, 0)), (max(left, 0), max(right, 0))], constant_values=value)
    h, w = x.shape[2:]
    return x[:, :, max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]


def _windows(x, kh, kw, stride, out_hw, dilation=(1, 1)):
    """Yield ((i, j), x[..., window offset (i, j), strided]) for every kernel offset."""
    oh, ow = out_hw
    for i in range(kh):
        for j in range(kw):
            r, c = i * dilation[0], j * dilation[1]
            yield (i, j), x[:, :, r:r + (oh - 1) * stride[0] + 1:stride[0], c:c + (ow - 1) * stride[1] + 1:stride[1]]


def _conv(x, w, stride, padding, lhs_dilation, rhs_dilation, groups, preferred_element_type=None):
    x, w = in_preferred_type(preferred_element_type, x, w)
    n, c, h, wd = x.shape
    o, i, kh, kw = w.shape
    out_hw = _output_hw(h, wd, kh, kw, stride, padding, rhs_dilation, lhs_dilation)
    dilated = np.zeros((n, c, (h - 1) * lhs_dilation[0] + 1, (wd - 1) * lhs_dilation[1] + 1), x.dtype)
    dilated[:, :, ::lhs_dilation[0], ::lhs_dilation[1]] = x
    xp = pad_hw(dilated, padding, 0)
    out = np.zeros((n, groups, o // groups) + out_hw, x.dtype)
    wg = w.reshape(groups, o // groups, i, kh, kw)
    for (a, b), patch in _windows(xp, kh, kw, stride, out_hw, rhs_dilation):
        out += np.einsum("ngihw,goi->ngohw", patch.reshape(n, groups, i, *out_hw), wg[..., a, b])
    return out.reshape((n, o) + out_hw)


defop("conv2d", "convolution", ("input", "weight"), _infer_conv, _conv,
      attrs={"stride": I64_ARRAY, "padding": I64_ARRAY, "lhs_dilation": I64_ARRAY, "rhs_dilation": I64_ARRAY,
             "groups": I64, "preferred_element_type": optional(ELEMENT_TYPE)},
      doc="2-D cross-correlation, NCHW x OIHW -> NCHW, with stride, padding, input and kernel dilation, groups; "
          "`preferred_element_type` (a wider float type: f32 for bf16 operands) sums and returns in that type")


def _infer_pool(specs, kernel, stride, padding):
    (x,) = specs
    require(x.rank == 4, f"input must be NCHW (rank 4), got {x}")
    require(x.dtype in ("f16", "bf16", "f32", "f64"), f"input must be floating-point, got {x}")
    _check_window_attrs(stride, padding, ("kernel", kernel))
    return TensorSpec(x.shape[:2] + _output_hw(*x.shape[2:], *kernel, stride, padding), x.dtype)


def _pool(x, kernel, stride, padding, pad_value, combine):
    out_hw = _output_hw(*x.shape[2:], *kernel, stride, padding)
    windows = [patch for _, patch in _windows(pad_hw(x, padding, pad_value), *kernel, stride, out_hw)]
    return combine(windows)


defop("max_pool2d", "convolution", ("x",), _infer_pool,
      lambda x, kernel, stride, padding: _pool(x, kernel, stride, padding, -np.inf, lambda ws: np.maximum.reduce(ws)),
      attrs={"kernel": I64_ARRAY, "stride": I64_ARRAY, "padding": I64_ARRAY},
      doc="maximum over each window; padding counts as -inf")
defop("avg_pool2d", "convolution", ("x",), _infer_pool,
      lambda x, kernel, stride, padding: _pool(x, kernel, stride, padding, 0,
                                              lambda ws: np.add.reduce(ws) / (kernel[0] * kernel[1])),
      attrs={"kernel": I64_ARRAY, "stride": I64_ARRAY, "padding": I64_ARRAY},
      doc="mean over each window; padding counts as 0 and is included in the count (count_include_pad)")


# ----------------------------------------------------------------------------- derivatives
def _spatial_pads(padding):
    return dict(low=(0, 0, padding[0], padding[2]), high=(0, 0, padding[1], padding[3]))


def _pad_spatial(em, x, padding, value):
    return em.pad(x, value=value, interior=(0, 0, 0, 0), **_spatial_pads(padding)) if any(padding) else x


def _transposed_conv(em, ct, kernel, x_shape, stride, padding, lhs_dilation, rhs_dilation, groups):
    """The transpose of conv2d in its input, for a `kernel` already flipped with in/out channels
    swapped: a conv2d over ct dilated by the stride (lhs_dilation) and padded by the kernel span.
    Without input dilation its padding is shifted by x's own, so it gives x's cotangent directly;
    with it, the cotangent of the padded, dilated input, from which `unpad` takes x's elements."""
    kh, kw = shape_of(kernel)[2:]
    oh, ow = shape_of(ct)[2:]
    h, w = x_shape[2:]
    ph = (h - 1) * lhs_dilation[0] + 1 + padding[0] + padding[1]
    pw = (w - 1) * lhs_dilation[1] + 1 + padding[2] + padding[3]
    span_h, span_w = (kh - 1) * rhs_dilation[0] + 1, (kw - 1) * rhs_dilation[1] + 1
    if tuple(lhs_dilation) == (1, 1):  # x's own elements directly: the padding shifts the window, nothing to crop
        return em.conv2d(ct, kernel, stride=(1, 1), lhs_dilation=tuple(stride), rhs_dilation=tuple(rhs_dilation),
                         padding=(span_h - 1 - padding[0], h - 1 + padding[0] - (oh - 1) * stride[0],
                                  span_w - 1 - padding[2], w - 1 + padding[2] - (ow - 1) * stride[1]),
                         groups=groups)
    grad = em.conv2d(ct, kernel, stride=(1, 1), lhs_dilation=tuple(stride), rhs_dilation=tuple(rhs_dilation),
                     padding=(span_h - 1, ph - 1 - (oh - 1) * stride[0], span_w - 1, pw - 1 - (ow - 1) * stride[1]),
                     groups=groups)
    return unpad(em, grad, x_shape, interior=(0, 0, lhs_dilation[0] - 1, lhs_dilation[1] - 1), **_spatial_pads(padding))


def _conv_input_transpose(em, ct, x, w, result, stride, padding, lhs_dilation, rhs_dilation, groups):
    o, i, kh, kw = shape_of(w)
    if groups == 1:
        swapped = em.transpose(w, permutation=(1, 0, 2, 3))
    else:  # [O, C/g] -> [g, O/g, C/g] -> [g, C/g, O/g] -> [C, O/g], group by group
        grouped = em.reshape(w, shape=(groups, o // groups, i, kh, kw))
        swapped = em.reshape(em.transpose(grouped, permutation=(0, 2, 1, 3, 4)), shape=(i * groups, o // groups, kh, kw))
    kernel = em.reverse(swapped, axes=(2, 3))
    return _transposed_conv(em, ct, kernel, shape_of(x), stride, padding, lhs_dilation, rhs_dilation, groups)


def _conv_weight_transpose(em, ct, x, w, result, stride, padding, lhs_dilation, rhs_dilation, groups):
    """dW[o, c, a, b] = sum over n, p, q of x~[n, c, a*rd + p*s, b*rd + q*s] ct[n, o, p, q]: a conv2d
    of x with batch and channels swapped, by ct as the kernel, stride and kernel dilation exchanged.
    Groups ride in the channel dimension (g*N channels, g groups)."""
    n, c, h, wd = shape_of(x)
    o, i, kh, kw = shape_of(w)
    if groups == 1:
        images = em.transpose(x, permutation=(1, 0, 2, 3))
    else:  # [N, C] -> [N, g, C/g] -> [C/g, g, N] -> [C/g, g*N]
        grouped = em.transpose(em.reshape(x, shape=(n, groups, i, h, wd)), permutation=(2, 1, 0, 3, 4))
        images = em.reshape(grouped, shape=(i, groups * n, h, wd))
    grad = em.conv2d(images, em.transpose(ct, permutation=(1, 0, 2, 3)), stride=tuple(rhs_dilation),
                     padding=tuple(padding), lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(stride), groups=groups)
    grad = em.transpose(grad, permutation=(1, 0, 2, 3))
    if shape_of(grad)[2:] != (kh, kw):  # windows past the last output position: not part of the kernel
        grad = em.slice(grad, start=(0, 0, 0, 0), limit=(o, i, kh, kw), stride=(1, 1, 1, 1))
    return grad


defbilinear("conv2d", _conv_input_transpose, _conv_weight_transpose)


def _avg_pool_transpose(em, ct, x, result, kernel, stride, padding):
    """avg_pool2d is a depthwise conv2d with a constant kernel of 1/(kh*kw), which flipping and
    swapping leave unchanged: its transpose is that kernel's transposed convolution."""
    channels = shape_of(x)[1]
    if channels == 0:  # no channels: no group to convolve (groups=0 is not a convolution), and nothing to do
        return em.zeros_like(x)
    weight = em.splat(value=1.0 / (kernel[0] * kernel[1]), shape=(channels, 1) + tuple(kernel), dtype=dtype_of(x))
    return _transposed_conv(em, ct, weight, shape_of(x), stride, padding, (1, 1), (1, 1), channels)


deflinear("avg_pool2d", _avg_pool_transpose)


def _max_pool_windows(em, x, result, kernel, stride, padding):
    """For each kernel offset: the strided slice of the (-inf padded) input that it reads, and the
    weight of each of its elements in the window's maximum: 1/count at tied maxima, 0 elsewhere.
    Built from kernel[0] * kernel[1] strided slices, so the rules stay in tg ops."""
    n, c = shape_of(x)[:2]
    oh, ow = shape_of(result)[2:]
    padded = _pad_spatial(em, x, padding, float("-inf"))
    windows = [dict(start=(0, 0, i, j), limit=(n, c, i + (oh - 1) * stride[0] + 1, j + (ow - 1) * stride[1] + 1),
                    stride=(1, 1, stride[0], stride[1])) for i in range(kernel[0]) for j in range(kernel[1])]
    hits = [em.cast(em.compare(em.slice(padded, **win), result, direction="eq"), dtype=dtype_of(x)) for win in windows]
    count = hits[0]
    for hit in hits[1:]:
        count = em.add(count, hit)
    return shape_of(padded), [(win, em.div(hit, count)) for win, hit in zip(windows, hits)]


def _tiled(x, result, kernel, stride, padding):
    """Whether the windows tile the input exactly (stride = kernel, no padding, nothing left over):
    then the derivatives are elementwise ops on the input's shape seen as [n, c, oh, kh, ow, kw]
    blocks, which fuse and vectorize, instead of one strided slice per kernel offset."""
    (_, _, h, w), (_, _, oh, ow) = shape_of(x), shape_of(result)
    return tuple(stride) == tuple(kernel) and not any(padding) and (h, w) == (oh * kernel[0], ow * kernel[1])


def _blocks(em, v, kernel):
    n, c, h, w = shape_of(v)
    return em.reshape(v, shape=(n, c, h // kernel[0], kernel[0], w // kernel[1], kernel[1]))


def _upsampled(em, v, kernel):
    """[n, c, oh, ow] -> [n, c, oh*kh, ow*kw]: each element repeated over its window."""
    n, c, oh, ow = shape_of(v)
    wide = em.broadcast_in_dim(v, dims=(0, 1, 2, 4), shape=(n, c, oh, kernel[0], ow, kernel[1]))
    return em.reshape(wide, shape=(n, c, oh * kernel[0], ow * kernel[1]))


def _tiled_hits(em, x, result, kernel):
    """Where x holds its window's maximum (1, else 0), and how many times each window does."""
    hit = em.cast(em.compare(x, _upsampled(em, result, kernel), direction="eq"), dtype=dtype_of(x))
    return hit, em.reduce_sum(_blocks(em, hit, kernel), axes=(3, 5))


def _max_pool_jvp(em, t, x, result, kernel, stride, padding):
    if _tiled(x, result, kernel, stride, padding):
        hit, count = _tiled_hits(em, x, result, kernel)
        return em.div(em.reduce_sum(_blocks(em, em.mul(hit, t), kernel), axes=(3, 5)), count)
    _, windows = _max_pool_windows(em, x, result, kernel, stride, padding)
    tp = _pad_spatial(em, t, padding, 0.0)
    total = None
    for win, weight in windows:
        total = add_any(em, total, em.mul(weight, em.slice(tp, **win)))
    return total


def _max_pool_vjp(em, ct, x, result, kernel, stride, padding):
    if _tiled(x, result, kernel, stride, padding):
        hit, count = _tiled_hits(em, x, result, kernel)
        return em.mul(hit, _upsampled(em, em.div(ct, count), kernel))
    padded_shape, windows = _max_pool_windows(em, x, result, kernel, stride, padding)
    total = None
    for win, weight in windows:
        total = add_any(em, total, unslice(em, em.mul(weight, ct), padded_shape, **win))
    return unpad(em, total, shape_of(x), interior=(0, 0, 0, 0), **_spatial_pads(padding))


defjvp("max_pool2d", _max_pool_jvp)
defvjp("max_pool2d", _max_pool_vjp)
convention("max_pool2d", "tied maxima in a window share the derivative evenly (like reduce_max)")


# ----------------------------------------------------------------------------- batching
def _batch_conv(em, operands, batched, size, groups, **attrs):
    """A batched input alone folds into N. A batched weight becomes size times the groups: lane b's
    channels are the b-th block of (N, size*C, H, W), its kernels the b-th block of size*O."""
    x, w = operands
    if not batched[1]:
        return unfold(em, em.conv2d(fold(em, x), w, groups=groups, **attrs), size)
    if not batched[0]:
        x = lift(em, x, size)
    b, n, c, h, wd = shape_of(x)
    images = em.reshape(move_axis(em, x, 0, 1), shape=(n, b * c, h, wd))
    kernels = fold(em, w)
    out = em.conv2d(images, kernels, groups=groups * size, **attrs)
    _, bo, oh, ow = shape_of(out)
    return move_axis(em, em.reshape(out, shape=(n, size, bo // size, oh, ow)), 1, 0)


defbatch("conv2d", _batch_conv)
defbatch_folded("max_pool2d")
defbatch_folded("avg_pool2d")
