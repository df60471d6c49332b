"""conv2d (NCHW input, OIHW weight) and 2-D pooling over NCHW.

`padding` is (top, bottom, left, right); negative padding crops. conv2d also takes an input
dilation (`lhs_dilation`, zeros between input elements), which makes the transposed convolution
of its derivative a conv2d too."""

import numpy as np

from .ad import add_any, defbilinear, deflinear
from .core import I64, I64_ARRAY, OPS, check_len, defop, require, spec_of
from tgraph.dtypes import TensorSpec


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


def _infer_conv(specs, stride, padding, lhs_dilation, rhs_dilation, groups):
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
    return TensorSpec((n, o) + _output_hw(h, wd, kh, kw, stride, padding, rhs_dilation, lhs_dilation), x.dtype)


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


def _conv(x, w, stride, padding, lhs_dilation, rhs_dilation, groups):
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
             "groups": I64},
      doc="2-D cross-correlation, NCHW x OIHW -> NCHW, with stride, padding, input and kernel dilation, groups")


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
defbilinear("conv2d")
deflinear("avg_pool2d")


def _max_pool_jvp(em, primals, tangents, result, kernel, stride, padding):
    """The tangent at each window's maximum, shared evenly among ties; built from the window's
    strided slices (kernel[0] * kernel[1] of them), so it stays in tg ops."""
    (x,), (t,) = primals, tangents
    if t is None:
        return None
    n, c = spec_of(x.type).shape[:2]
    oh, ow = spec_of(result.type).shape[2:]
    pads = dict(low=(0, 0, padding[0], padding[2]), high=(0, 0, padding[1], padding[3]), interior=(0, 0, 0, 0))
    xp, tp = em.pad(x, value=float("-inf"), **pads), em.pad(t, value=0.0, **pads)
    count = total = None
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            window = dict(start=(0, 0, i, j), limit=(n, c, i + (oh - 1) * stride[0] + 1, j + (ow - 1) * stride[1] + 1),
                          stride=(1, 1, stride[0], stride[1]))
            hit = em.cast(em.compare(em.slice(xp, **window), result, direction="eq"), dtype=spec_of(x.type).dtype)
            count = add_any(em, count, hit)
            total = add_any(em, total, em.mul(hit, em.slice(tp, **window)))
    return em.div(total, count)


OPS["max_pool2d"].jvp = _max_pool_jvp
