"""Row gather (embedding lookup) and its transpose, scatter-add.

Indices are clamped to [0, rows - 1], as in JAX's default gather mode: an out-of-range index
reads or writes the nearest row rather than memory out of bounds."""

import numpy as np

from .ad import convention, deflinear, dtype_of, shape_of
from .batching import clamped, defbatch, lane_offsets, lift, move_axis
from .core import I64, OPS, defop, require
from tgraph.support.dtypes import TensorSpec


def _check_indices(indices):
    require(indices.dtype in ("i32", "i64"), f"indices must be i32 or i64, got {indices}")


def _infer_gather(specs):
    table, indices = specs
    require(table.rank >= 1, f"table must have at least one dimension, got {table}")
    _check_indices(indices)
    # No row to clamp an index to: compiled code would read outside the table.
    require(table.shape[0] > 0 or indices.size == 0, f"cannot gather from a table with 0 rows ({table})")
    return TensorSpec(indices.shape + table.shape[1:], table.dtype)


defop("gather", "indexing", ("table", "indices"), _infer_gather,
      lambda table, indices: table[np.clip(indices, 0, table.shape[0] - 1)],
      doc="result[i..., :] = table[indices[i...], :]")


def _infer_scatter_add(specs, rows):
    indices, updates = specs
    _check_indices(indices)
    require(rows >= 1, f"rows {rows} must be positive")
    require(updates.shape[:indices.rank] == indices.shape,
            f"updates {updates} must start with the indices' shape {list(indices.shape)}")
    require(updates.dtype != "i1", "cannot scatter-add i1 updates")
    return TensorSpec((rows,) + updates.shape[indices.rank:], updates.dtype)


def _scatter_add(indices, updates, rows):
    out = np.zeros((rows,) + updates.shape[indices.ndim:], updates.dtype)
    np.add.at(out, np.clip(indices, 0, rows - 1), updates)
    return out


defop("scatter_add", "indexing", ("indices", "updates"), _infer_scatter_add, _scatter_add, attrs={"rows": I64},
      doc="zeros of `rows` rows, then result[indices[i...], :] += updates[i..., :]")


def _infer_set_row(specs):
    table, row, index = specs
    require(table.rank >= 1, f"table must have at least one dimension, got {table}")
    require(table.shape[0] > 0, f"cannot set a row of a table with 0 rows ({table})")
    _check_indices(index)
    require(index.rank == 0, f"index must be a scalar, got {index}")
    require(row == TensorSpec(table.shape[1:], table.dtype), f"row {row} must be one row of the table {table}")
    return table


def _set_row(table, row, index):
    out = np.array(table, copy=True)
    out[np.clip(index, 0, table.shape[0] - 1)] = row
    return out


defop("set_row", "indexing", ("table", "row", "index"), _infer_set_row, _set_row,
      doc="the table with row `index` (a scalar, clamped) replaced by `row`: how loops stack their outputs")


# ----------------------------------------------------------------------------- derivatives
# gather is linear in the table and scatter_add in the updates; each is the other's transpose.
deflinear("gather", lambda em, ct, table, indices, result: em.scatter_add(indices, ct, rows=shape_of(table)[0]), None)
deflinear("scatter_add", None, lambda em, ct, indices, updates, result, rows: em.gather(ct, indices))
# set_row is linear in the table and the row: the table's cotangent has the row zeroed, the row's is that row.
deflinear("set_row", lambda em, ct, table, row, index, result: em.set_row(ct, em.zeros_like(row), index),
          lambda em, ct, table, row, index, result: em.gather(ct, index), None)


def _set_row_vjp(em, primals, active, ct, result):
    """The row's cotangent is read before the table's is written: in a loop whose carry is `ct`,
    the table's can then be written in place."""
    table, row, index = primals
    row_ct = em.gather(ct, index) if active[1] else None
    table_ct = em.set_row(ct, em.zeros_like(row), index) if active[0] else None
    return [table_ct, row_ct, None]


OPS["set_row"].vjp = _set_row_vjp
convention("gather", "linear in the table (transpose: scatter_add); indices are not differentiated")
convention("set_row", "linear in the table and the row; the index is not differentiated")
convention("scatter_add", "linear in the updates (transpose: gather); indices are not differentiated")


# ----------------------------------------------------------------------------- batching
def _batch_gather(em, operands, batched, size):
    """Batched indices into a shared table: the gather as it is. A batched table: rows of the
    transposed table (the batch dimension after the row), or, with batched indices too, rows of
    the flattened (size*rows) table at lane offsets."""
    table, indices = operands
    rows = shape_of(table)[1] if batched[0] else shape_of(table)[0]
    if not batched[0]:
        return em.gather(table, indices)
    if not batched[1]:
        out = em.gather(move_axis(em, table, 0, 1), indices)
        return move_axis(em, out, len(shape_of(indices)), 0)
    flat = em.reshape(table, shape=(size * rows,) + tuple(shape_of(table)[2:]))
    return em.gather(flat, lane_offsets(em, indices, rows))


def _batch_scatter_add(em, operands, batched, size, rows):
    indices, updates = operands
    k = len(shape_of(indices)) - (1 if batched[0] else 0)
    if not batched[0]:  # shared indices: the batch dimension rides after them, as a row dimension
        out = em.scatter_add(indices, move_axis(em, updates, 0, k), rows=rows)
        return move_axis(em, out, 1, 0)
    if not batched[1]:
        updates = lift(em, updates, size)
    out = em.scatter_add(lane_offsets(em, indices, rows), updates, rows=size * rows)
    return em.reshape(out, shape=(size, rows) + tuple(shape_of(out)[1:]))


def _batch_set_row(em, operands, batched, size):
    """A shared index: set_row of the transposed table. Per-lane indices: a select of the row
    where the row's number equals the lane's index."""
    table, row, index = operands
    if not batched[0]:
        table = lift(em, table, size)
    if not batched[1]:
        row = lift(em, row, size)
    if not batched[2]:
        return move_axis(em, em.set_row(move_axis(em, table, 0, 1), row, index), 1, 0)
    shape = tuple(shape_of(table))
    lanes = clamped(em, index, shape[1])
    number = em.iota(shape=shape[:2], dtype=dtype_of(index), dimension=1)
    hit = em.compare(number, em.broadcast_in_dim(lanes, dims=(0,), shape=shape[:2]), direction="eq")
    mask = em.broadcast_in_dim(hit, dims=(0, 1), shape=shape)
    rows = em.broadcast_in_dim(row, dims=(0,) + tuple(range(2, len(shape))), shape=shape)
    return em.select(mask, rows, table)


defbatch("gather", _batch_gather)
defbatch("scatter_add", _batch_scatter_add)
defbatch("set_row", _batch_set_row)
