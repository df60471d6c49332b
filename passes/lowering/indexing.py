"""set_row -> tensor.insert_slice at the row; gather -> a parallel linalg.generic that reads the table with tensor.extract; scatter_add ->
an scf.for over the index positions adding each update row into its (clamped) row.
Indices are clamped to [0, rows - 1], as in the reference: never a read or write out of bounds."""

from tgraph.support.dtypes import is_float
from tgraph.support.mlir import arith, ir, scf, tensor

from .builders import (affine_map, compute_dtype, empty, full, generic, identity_map, loop_index, reshape, rounded,
                       scalar, spec, tensor_of, widen)


def _clamped_row(index, rows):
    """An integer index scalar clamped to [0, rows - 1], as an `index` value (clamped in i64,
    so any row count fits)."""
    i64 = ir.IntegerType.get_signless(64)
    wide = arith.extsi(i64, index) if str(index.type) != "i64" else index
    clamped = arith.minsi(arith.maxsi(wide, scalar(0, "i64")), scalar(rows - 1, "i64"))
    return arith.index_cast(ir.IndexType.get(), clamped)


def _gather(out, table, indices):
    rows, n_index_dims = spec(table).shape[0], spec(indices).rank

    def body(index, _):
        row = _clamped_row(index, rows)
        return tensor.extract(table, [row] + [loop_index(d) for d in range(n_index_dims, out.rank)])

    return generic([indices], [affine_map(out.rank, range(n_index_dims))], empty(out.shape, out.dtype),
                   identity_map(out.rank), ["parallel"] * out.rank, body)


def _row_slice(source, row, width):
    """source[row, :] as a tensor<1 x width>, row a dynamic index."""
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    return tensor.extract_slice(tensor_of((1, width), spec(source).dtype), source, [row], [], [], [dynamic, 0],
                                [1, width], [1, 1])


def _scatter_add(out, indices, updates, rows):
    positions, width = spec(indices).size, int(out.size // rows)
    acc_dtype = compute_dtype(out.dtype)  # f16/bf16 accumulate in f32, as the reference
    flat_indices = reshape(indices, (positions,))
    flat_updates = reshape(updates, (positions, width))
    add = arith.addf if is_float(out.dtype) else arith.addi
    index = ir.IndexType.get()
    # Sequential in position order, as np.add.at: repeated indices accumulate in the same order.
    loop = scf.ForOp(arith.constant(index, 0), arith.constant(index, positions), arith.constant(index, 1),
                     [full((rows, width), acc_dtype, 0)])
    with ir.InsertionPoint(loop.body):
        p, acc = loop.induction_variable, loop.inner_iter_args[0]
        row = _clamped_row(tensor.extract(flat_indices, [p]), rows)
        summed = generic([_row_slice(flat_updates, p, width)], [identity_map(2)], _row_slice(acc, row, width),
                         identity_map(2), ["parallel"] * 2, lambda u, total: add(total, widen(u)))
        dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
        scf.YieldOp([tensor.insert_slice(summed, acc, [row], [], [], [dynamic, 0], [1, width], [1, 1])])
    return rounded(reshape(loop.result, out.shape), out)


def _set_row(out, table, row, index):
    """tensor.insert_slice at a dynamic row: in a loop whose carry is the table, it bufferizes to
    a write of one row in place."""
    shape = spec(table).shape
    at = _clamped_row(tensor.extract(index, []), shape[0])
    dynamic = ir.ShapedType.get_dynamic_stride_or_offset()
    one_row = reshape(row, (1,) + tuple(shape[1:]))
    return tensor.insert_slice(one_row, table, [at], [], [], [dynamic] + [0] * (len(shape) - 1),
                               [1] + list(shape[1:]), [1] * len(shape))


def _set_row_by_select(out, table, row, index):
    """set_row as one parallel generic over the table choosing, per element, the row's or the
    table's: no offset for the host to compute (the GPU's host code never reads device memory)."""
    rows, rank = out.shape[0], out.rank

    def body(old, at, _):
        chosen = arith.cmpi(arith.CmpIPredicate.eq, loop_index(0), _clamped_row(at, rows))
        new = tensor.extract(row, [loop_index(d) for d in range(1, rank)])
        return arith.select(chosen, new, old)

    return generic([table, index], [identity_map(rank), affine_map(rank, ())], empty(out.shape, out.dtype),
                   identity_map(rank), ["parallel"] * rank, body)


RULES = {"gather": _gather, "scatter_add": _scatter_add, "set_row": _set_row}
# Where the host cannot read an index from device memory (the GPU): rules without dynamic offsets.
WITHOUT_DYNAMIC_OFFSETS = {"set_row": _set_row_by_select}
