"""`tg.dot_general`: one contraction op for matmul, batched matmul, matvec and outer products.

Result dimensions: the batch dimensions, then lhs's free dimensions, then rhs's (as StableHLO)."""

import string

import numpy as np

from .ad import defbilinear, shape_of
from .batching import defbatch, move_axis, shift
from .core import ELEMENT_TYPE, I64_ARRAY, check_axes, check_len, defop, in_preferred_type, optional, \
    preferred_result_type, require
from tgraph.support.dtypes import TensorSpec

DIMENSION_ATTRS = ("lhs_batch", "rhs_batch", "lhs_contract", "rhs_contract")


def free_dims(rank, batch, contract):
    return [d for d in range(rank) if d not in batch and d not in contract]


def _infer_dot(specs, lhs_batch, rhs_batch, lhs_contract, rhs_contract, preferred_element_type=None):
    lhs, rhs = specs
    require(lhs.dtype == rhs.dtype, f"operands must have one element type, got {lhs} and {rhs}")
    require(lhs.dtype != "i1", "cannot contract i1 tensors")
    check_len(rhs_batch, len(lhs_batch), "rhs_batch")
    check_len(rhs_contract, len(lhs_contract), "rhs_contract")
    check_axes(list(lhs_batch) + list(lhs_contract), lhs.rank, "lhs batch and contracting dims")
    check_axes(list(rhs_batch) + list(rhs_contract), rhs.rank, "rhs batch and contracting dims")
    for kind, ls, rs in (("batch", lhs_batch, rhs_batch), ("contracting", lhs_contract, rhs_contract)):
        for a, b in zip(ls, rs):
            require(lhs.shape[a] == rhs.shape[b],
                    f"{kind} dimensions differ: lhs {lhs} dimension {a} is {lhs.shape[a]}, rhs {rhs} dimension {b} is {rhs.shape[b]}")
    shape = [lhs.shape[d] for d in lhs_batch]
    shape += [lhs.shape[d] for d in free_dims(lhs.rank, lhs_batch, lhs_contract)]
    shape += [rhs.shape[d] for d in free_dims(rhs.rank, rhs_batch, rhs_contract)]
    return TensorSpec(shape, preferred_result_type(lhs.dtype, preferred_element_type))


def einsum_subscripts(lhs_rank, rhs_rank, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    letters = iter(string.ascii_letters)
    lhs = [next(letters) for _ in range(lhs_rank)]
    rhs = [None] * rhs_rank
    for a, b in zip(lhs_batch, rhs_batch):
        rhs[b] = lhs[a]
    for a, b in zip(lhs_contract, rhs_contract):
        rhs[b] = lhs[a]
    rhs = [r or next(letters) for r in rhs]
    out = [lhs[d] for d in lhs_batch]
    out += [lhs[d] for d in free_dims(lhs_rank, lhs_batch, lhs_contract)]
    out += [rhs[d] for d in free_dims(rhs_rank, rhs_batch, rhs_contract)]
    return f"{''.join(lhs)},{''.join(rhs)}->{''.join(out)}"


def _dot(lhs, rhs, preferred_element_type=None, **dims):
    lhs, rhs = in_preferred_type(preferred_element_type, lhs, rhs)
    return np.einsum(einsum_subscripts(lhs.ndim, rhs.ndim, **dims), lhs, rhs)


defop("dot_general", "contraction", ("lhs", "rhs"), _infer_dot, _dot,
      attrs={**{name: I64_ARRAY for name in DIMENSION_ATTRS}, "preferred_element_type": optional(ELEMENT_TYPE)},
      doc="sum of products over the contracting dims, per batch index; result: batch, lhs free, rhs free; "
          "`preferred_element_type` (a wider type: f32 for bf16 operands) sums and returns in that type")


# ----------------------------------------------------------------------------- derivatives
def _arrange(em, value, order):
    """Transpose `value` so that result dimension d is value's dimension order[d] (skip the identity)."""
    order = tuple(order)
    return value if order == tuple(range(len(order))) else em.transpose(value, permutation=order)


def _lhs_transpose(em, ct, lhs, rhs, result, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    """ct (batch, lhs free, rhs free) contracted with rhs over rhs's free dims gives
    (batch, lhs free, rhs contracting dims in rhs order); then move each to its lhs position."""
    nb, lhs_rank, rhs_rank = len(lhs_batch), len(shape_of(lhs)), len(shape_of(rhs))
    lhs_free = free_dims(lhs_rank, lhs_batch, lhs_contract)
    rhs_free = free_dims(rhs_rank, rhs_batch, rhs_contract)
    ct_rhs_free = tuple(range(nb + len(lhs_free), nb + len(lhs_free) + len(rhs_free)))
    grad = em.dot_general(ct, rhs, lhs_batch=tuple(range(nb)), rhs_batch=tuple(rhs_batch),
                          lhs_contract=ct_rhs_free, rhs_contract=tuple(rhs_free))
    position = {}  # lhs dimension -> dimension of grad
    position.update({d: i for i, d in enumerate(lhs_batch)})
    position.update({d: nb + i for i, d in enumerate(lhs_free)})
    contracted = sorted(rhs_contract)
    position.update({a: nb + len(lhs_free) + contracted.index(b) for a, b in zip(lhs_contract, rhs_contract)})
    return _arrange(em, grad, [position[d] for d in range(lhs_rank)])


def _rhs_transpose(em, ct, lhs, rhs, result, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    """lhs contracted with ct over lhs's free dims gives (batch, lhs contracting dims in lhs order,
    rhs free); then move each to its rhs position."""
    nb, lhs_rank, rhs_rank = len(lhs_batch), len(shape_of(lhs)), len(shape_of(rhs))
    lhs_free = free_dims(lhs_rank, lhs_batch, lhs_contract)
    rhs_free = free_dims(rhs_rank, rhs_batch, rhs_contract)
    grad = em.dot_general(lhs, ct, lhs_batch=tuple(lhs_batch), rhs_batch=tuple(range(nb)),
                          lhs_contract=tuple(lhs_free), rhs_contract=tuple(range(nb, nb + len(lhs_free))))
    position = {d: i for i, d in enumerate(rhs_batch)}
    contracted = sorted(lhs_contract)
    position.update({b: nb + contracted.index(a) for a, b in zip(lhs_contract, rhs_contract)})
    position.update({d: nb + len(lhs_contract) + i for i, d in enumerate(rhs_free)})
    return _arrange(em, grad, [position[d] for d in range(rhs_rank)])


defbilinear("dot_general", _lhs_transpose, _rhs_transpose)


def _batch_dot(em, operands, batched, size, lhs_batch, rhs_batch, lhs_contract, rhs_contract,
               preferred_element_type=None):
    """Both batched: the batch dimension joins the batch dimensions (and leads the result). One
    batched: it is a free dimension of that operand (per-example x times shared w is one larger
    matmul), moved to the front of the result. The preferred type stays."""
    lhs, rhs = operands
    preferred = dict(preferred_element_type=preferred_element_type)
    if all(batched):
        return em.dot_general(lhs, rhs, lhs_batch=(0,) + shift(lhs_batch), rhs_batch=(0,) + shift(rhs_batch),
                              lhs_contract=shift(lhs_contract), rhs_contract=shift(rhs_contract), **preferred)
    nb = len(lhs_batch)
    if batched[0]:
        out = em.dot_general(lhs, rhs, lhs_batch=shift(lhs_batch), rhs_batch=tuple(rhs_batch),
                             lhs_contract=shift(lhs_contract), rhs_contract=tuple(rhs_contract), **preferred)
        return move_axis(em, out, nb, 0)
    lhs_free = free_dims(len(shape_of(lhs)), lhs_batch, lhs_contract)
    out = em.dot_general(lhs, rhs, lhs_batch=tuple(lhs_batch), rhs_batch=shift(rhs_batch),
                         lhs_contract=tuple(lhs_contract), rhs_contract=shift(rhs_contract), **preferred)
    return move_axis(em, out, nb + len(lhs_free), 0)


defbatch("dot_general", _batch_dot)
