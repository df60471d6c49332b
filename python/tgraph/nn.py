"""Composite functions, built from tg ops in the builder layer (so derivatives come for free)."""

import numpy as np

from . import ops
from .support.errors import TGraphError, TGraphTypeError, user_facing
from .graph import Var


@user_facing
def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) without overflow: the max is shifted out, and held constant for
    differentiation (the result does not depend on it)."""
    m = ops.stop_gradient(ops.max(x, axis=axis, keepdims=True))
    out = ops.log(ops.sum(ops.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else ops.reshape(out, tuple(d for i, d in enumerate(out.shape)
                                                       if i not in ops._normalize_axes(x, axis, "logsumexp")))


@user_facing
def log_softmax(x, axis=-1):
    return x - logsumexp(x, axis=axis, keepdims=True)


@user_facing
def softmax(x, axis=-1):
    e = ops.exp(x - ops.stop_gradient(ops.max(x, axis=axis, keepdims=True)))
    return e / ops.sum(e, axis=axis, keepdims=True)


def _reduce(loss, reduction, opname):
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    if reduction == "none":
        return loss
    raise TGraphError(f"{opname}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def one_hot(labels, num_classes, dtype):
    """Integer labels -> one-hot rows of `dtype`, by comparison with a constant arange."""
    classes = ops.constant(np.arange(num_classes, dtype=labels.dtype.mlir_name == "i64" and np.int64 or np.int32),
                           like=labels)
    hits = ops.equal(ops.reshape(labels, labels.shape + (1,)), classes)
    return ops.cast(hits, dtype)


@user_facing
def cross_entropy(logits, labels, reduction="mean", ignore_index=-100):
    """Softmax cross-entropy over the last axis, from logits and either integer class labels
    (shape logits.shape[:-1]) or target probabilities / one-hot rows (shape of logits).

    Integer labels, as PyTorch: a label equal to `ignore_index` (default -100) contributes 0 and
    is not counted by the mean (a mean over no counted label is NaN). Any other label outside
    [0, classes) makes that example's loss NaN, so that it shows in the result instead of adding
    a silent 0; labels given as a numpy array are checked when the graph is built (a TGraphError)."""
    if not isinstance(logits, Var):
        raise TGraphTypeError(f"cross_entropy: logits must be a tgraph Var, got {type(logits).__name__}")
    classes = logits.shape[-1]
    if not isinstance(labels, Var) and np.asarray(labels).dtype.kind in "iu":
        concrete = np.asarray(labels)
        bad = concrete[(concrete != ignore_index) & ((concrete < 0) | (concrete >= classes))]
        if bad.size:
            raise TGraphError(f"cross_entropy: label {bad.flat[0]} is out of range for {classes} classes "
                              f"(labels are 0..{classes - 1}, or ignore_index={ignore_index})")
        labels = ops.constant(concrete.astype(np.int64 if concrete.dtype.itemsize > 4 else np.int32), like=logits)
    if not (isinstance(labels, Var) and labels.spec.dtype in ("i32", "i64")):
        target = labels
        if (target.shape if isinstance(target, Var) else np.shape(target)) != logits.shape:
            raise TGraphError(f"cross_entropy: target probabilities must have the logits' shape {logits.shape}")
        return _reduce(-ops.sum(target * log_softmax(logits), axis=-1), reduction, "cross_entropy")
    if labels.shape != logits.shape[:-1]:
        raise TGraphError(f"cross_entropy: integer labels {labels.spec} must have the logits' shape without "
                          f"the class axis, {logits.shape[:-1]}")
    losses = -ops.sum(one_hot(labels, classes, logits.spec.dtype) * log_softmax(logits), axis=-1)
    in_range = ops.where(labels >= 0, labels < classes, False)
    counted = ops.not_equal(labels, ignore_index)
    losses = ops.where(counted, ops.where(in_range, losses, np.nan), 0.0)
    if reduction == "mean":
        return ops.sum(losses) / ops.sum(ops.cast(counted, logits.spec.dtype))
    return _reduce(losses, reduction, "cross_entropy")


@user_facing
def mse_loss(prediction, target, reduction="mean"):
    diff = prediction - target
    return _reduce(diff * diff, reduction, "mse_loss")


@user_facing
def layer_norm(x, weight=None, bias=None, eps=1e-5, axis=-1):
    """Normalize over `axis` (an int or a tuple, default the last), then scale and shift."""
    mu = ops.mean(x, axis=axis, keepdims=True)
    centered = x - mu
    var = ops.mean(centered * centered, axis=axis, keepdims=True)
    out = centered * ops.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@user_facing
def batch_norm(x, running_mean, running_var, weight=None, bias=None, eps=1e-5):
    """Inference-mode batch norm over NC... input with per-channel statistics of shape (C,)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - ops.reshape(running_mean, shape)) * ops.rsqrt(ops.reshape(running_var, shape) + eps)
    if weight is not None:
        out = out * ops.reshape(weight, shape)
    if bias is not None:
        out = out + ops.reshape(bias, shape)
    return out


@user_facing
def linear(x, weight, bias=None, preferred_element_type=None):
    """PyTorch's linear: x @ weight.T + bias, weight of shape (out_features, in_features).
    preferred_element_type: the matmul sums in, and returns, that wider type (f32 for bf16 operands);
    the bias is added in it."""
    out = ops.matmul(x, ops.transpose(weight), preferred_element_type=preferred_element_type)
    if bias is None:
        return out
    return out + ops.bias_in_result_type(bias, out, preferred_element_type)


@user_facing
def gelu(x, approximate="tanh"):
    """GELU: x Phi(x). approximate='tanh' (or True; GPT-2's and JAX's default) is the tanh form;
    approximate='none' (or False; PyTorch's default) is exact, 0.5 x (1 + erf(x / sqrt 2))."""
    if approximate in ("none", False):
        return 0.5 * x * (1.0 + ops.erf(x * float(1 / np.sqrt(2.0))))
    if approximate not in ("tanh", True):
        raise TGraphError(f"gelu: approximate={approximate!r}; use 'tanh' (or True) or 'none' (or False, exact)")
    c = float(np.sqrt(2.0 / np.pi))
    return 0.5 * x * (1.0 + ops.tanh(c * (x + 0.044715 * x * x * x)))


@user_facing
def dropout(x, rate, key, training=True):
    """Inverted dropout: zero each element with probability `rate`, scale the rest by 1/(1-rate).
    `key` is a scalar integer Var (an input) or an int; the same key gives the same mask."""
    if not 0.0 <= rate < 1.0:
        raise TGraphError(f"dropout: rate {rate} must be in [0, 1)")
    if not training or rate == 0.0:
        return x
    keep = ops.bernoulli(key, 1.0 - rate, x.shape, like=x)
    return ops.where(keep, x * (1.0 / (1.0 - rate)), 0.0)
