"""Reductions over given axes; the reduced axes are dropped from the result."""

import numpy as np

from .ad import convention, defjvp, deflinear, defvjp, dtype_of, shape_of
from .batching import defbatch_with_attrs, shift
from .core import I64_ARRAY, check_axes, defop, require
from tgraph.support.dtypes import TensorSpec


def _infer_reduce(specs, axes):
    (x,) = specs
    check_axes(axes, x.rank)
    require(x.dtype != "i1", f"cannot reduce {x}: cast the mask to a number first")
    return TensorSpec([d for i, d in enumerate(x.shape) if i not in axes], x.dtype)


defop("reduce_sum", "reduction", ("x",), _infer_reduce, lambda x, axes: np.sum(x, axis=tuple(axes)),
      attrs={"axes": I64_ARRAY}, doc="sum over `axes`")


def _reduce_max(x, axes):
    if x.size == 0:  # the identity of max
        return np.full([d for i, d in enumerate(x.shape) if i not in axes], -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min, x.dtype)
    return np.max(x, axis=tuple(axes))


defop("reduce_max", "reduction", ("x",), _infer_reduce, _reduce_max,
      attrs={"axes": I64_ARRAY}, doc="maximum over `axes` (-inf for an empty reduction; NaN propagates)")


# ----------------------------------------------------------------------------- derivatives
def _kept(x, axes):
    return tuple(d for d in range(len(shape_of(x))) if d not in axes)


deflinear("reduce_sum", lambda em, ct, x, result, axes: em.broadcast_in_dim(ct, dims=_kept(x, axes), shape=shape_of(x)))


def _argmax_weights(em, x, result, axes):
    """1/count at each of the tied maxima of x, 0 elsewhere (as JAX, the derivative is shared evenly)."""
    peak = em.broadcast_in_dim(result, dims=_kept(x, axes), shape=shape_of(x))
    hits = em.cast(em.compare(x, peak, direction="eq"), dtype=dtype_of(x))
    count = em.broadcast_in_dim(em.reduce_sum(hits, axes=axes), dims=_kept(x, axes), shape=shape_of(x))
    return em.div(hits, count)


defjvp("reduce_max", lambda em, t, x, result, axes: em.reduce_sum(em.mul(_argmax_weights(em, x, result, axes), t), axes=axes))
defvjp("reduce_max", lambda em, ct, x, result, axes: em.mul(
    _argmax_weights(em, x, result, axes), em.broadcast_in_dim(ct, dims=_kept(x, axes), shape=shape_of(x))))
convention("reduce_max", "tied maxima share the derivative evenly, as JAX")

# batching: the reduced axes move past the batch dimension
for _name in ("reduce_sum", "reduce_max"):
    defbatch_with_attrs(_name, lambda size, axes: {"axes": shift(axes)})
