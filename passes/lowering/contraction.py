"""tg.dot_general -> linalg.matmul / linalg.batch_matmul when the dimensions are in their order,
else a linalg.generic contraction (parallel batch and free loops, reduction loops last)."""

from tgraph.dialect.contraction import free_dims
from tgraph.support.dtypes import is_float
from tgraph.support.mlir import arith, linalg

from .builders import affine_map, compute_dtype, full, generic, rounded, spec, widen_to


def _contraction_generic(lhs, rhs, init, lhs_batch, rhs_batch, lhs_contract, rhs_contract):
    """Loops: batch, lhs free, rhs free (the result's dimensions), then the contracted ones."""
    l, r = spec(lhs), spec(rhs)
    lhs_free, rhs_free = free_dims(l.rank, lhs_batch, lhs_contract), free_dims(r.rank, rhs_batch, rhs_contract)
    n_out = len(lhs_batch) + len(lhs_free) + len(rhs_free)
    lhs_loop, rhs_loop = {}, {}
    for i, (a, b) in enumerate(zip(lhs_batch, rhs_batch)):
        lhs_loop[a] = rhs_loop[b] = i
    for i, d in enumerate(lhs_free):
        lhs_loop[d] = len(lhs_batch) + i
    for i, d in enumerate(rhs_free):
        rhs_loop[d] = len(lhs_batch) + len(lhs_free) + i
    for i, (a, b) in enumerate(zip(lhs_contract, rhs_contract)):
        lhs_loop[a] = rhs_loop[b] = n_out + i
    n_loops = n_out + len(lhs_contract)
    add, mul = (arith.addf, arith.mulf) if is_float(l.dtype) else (arith.addi, arith.muli)
    acc_dtype = spec(init).dtype
    return generic([lhs, rhs], [affine_map(n_loops, [lhs_loop[d] for d in range(l.rank)]),
                                affine_map(n_loops, [rhs_loop[d] for d in range(r.rank)])],
                   init, affine_map(n_loops, range(n_out)), ["parallel"] * n_out + ["reduction"] * len(lhs_contract),
                   lambda a, b, total: add(total, mul(widen_to(a, acc_dtype), widen_to(b, acc_dtype))))


def _dot_general(out, lhs, rhs, lhs_batch, rhs_batch, lhs_contract, rhs_contract, preferred_element_type=None):
    """The operands are extended to the accumulator's type in the loop body (the named ops do the
    same), so a preferred_element_type sums in that type and needs no rounding after."""
    l, r = spec(lhs), spec(rhs)
    acc_dtype = compute_dtype(out.dtype)  # f16/bf16 accumulate in f32; otherwise the (preferred) result type
    init = full(out.shape, acc_dtype, 0)
    dims = (lhs_batch, rhs_batch, lhs_contract, rhs_contract)
    if (l.rank, r.rank) == (2, 2) and dims == ((), (), (1,), (0,)):
        acc = linalg.matmul(lhs, rhs, outs=[init])
    elif (l.rank, r.rank) == (3, 3) and dims == ((0,), (0,), (2,), (1,)):
        acc = linalg.batch_matmul(lhs, rhs, outs=[init])
    else:
        acc = _contraction_generic(lhs, rhs, init, *dims)
    return rounded(acc, out)


RULES = {"dot_general": _dot_general}
