"""Reductions over given axes; the reduced axes are dropped from the result."""

import numpy as np

from .ad import deflinear
from .core import I64_ARRAY, OPS, check_axes, defop, require, spec_of
from tgraph.dtypes import TensorSpec


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
deflinear("reduce_sum")


def _reduce_max_jvp(em, primals, tangents, result, axes):
    """The tangent at the maximum, shared evenly among tied maxima (as JAX)."""
    (x,), (t,) = primals, tangents
    if t is None:
        return None
    spec = spec_of(x.type)
    kept = [d for d in range(spec.rank) if d not in axes]
    peak = em.broadcast_in_dim(result, dims=tuple(kept), shape=spec.shape)
    hits = em.cast(em.compare(x, peak, direction="eq"), dtype=spec.dtype)
    count = em.reduce_sum(hits, axes=axes)
    return em.div(em.reduce_sum(em.mul(hits, t), axes=axes), count)


OPS["reduce_max"].jvp = _reduce_max_jvp
