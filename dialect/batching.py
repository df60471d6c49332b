"""Batching rules (what tg-batch, the pass behind vmap, emits for each op), in tg ops.

A rule maps an op's operands, which of them carry the batch dimension (always their leading
axis: tg-batch keeps it there), the batch size and the op's attributes to the batched result, with
the batch dimension leading. It runs only when some operand is batched; unbatched operands that
must be batched too are broadcast (`lift`). The helpers make most rules one line, as the AD
helpers do; each op's rule sits beside its definition."""

from .ad import Emitter, dtype_of, shape_of
from .core import OPS


def defbatch(name, rule):
    """rule(em, operands, batched, size, **attrs) -> the batched result (batch dimension first)."""
    OPS[name].batch = rule


def lift(em, value, size):
    """An unbatched value broadcast along a new leading batch dimension of `size`."""
    shape = shape_of(value)
    return em.broadcast_in_dim(value, dims=tuple(range(1, len(shape) + 1)), shape=(size,) + tuple(shape))


def lifted(em, operands, batched, size):
    return [v if b else lift(em, v, size) for v, b in zip(operands, batched)]


def move_axis(em, value, source, destination):
    """value with its axis `source` moved to `destination` (the others keep their order)."""
    if source == destination:
        return value
    order = [d for d in range(len(shape_of(value))) if d != source]
    order.insert(destination, source)
    return em.transpose(value, permutation=tuple(order))


def defbatch_nullary(name):
    """An op without operands is never batched: tg-batch copies it (the rule is never called)."""
    def rule(em, operands, batched, size, **attrs):
        raise AssertionError(f"tg.{name} has no operands to batch")
    defbatch(name, rule)


def defbatch_elementwise(name):
    """Operands of one shape: all batched (the unbatched ones broadcast), the op unchanged."""
    defbatch(name, lambda em, operands, batched, size, **attrs:
             getattr(em, name)(*lifted(em, operands, batched, size), **attrs))


def shift(axes, by=1):
    return tuple(a + by for a in axes)


def defbatch_with_attrs(name, rewrite):
    """An op whose attributes name its axes: `rewrite(size, **attrs) -> attrs` for the batched
    operands (all of them batched, the unbatched ones broadcast)."""
    defbatch(name, lambda em, operands, batched, size, **attrs:
             getattr(em, name)(*lifted(em, operands, batched, size), **rewrite(size, **attrs)))


def fold(em, value):
    """Batch dimension merged into the next one: (B, N, ...) -> (B*N, ...)."""
    shape = shape_of(value)
    return em.reshape(value, shape=(shape[0] * shape[1],) + tuple(shape[2:]))


def unfold(em, value, size):
    """(B*N, ...) -> (B, N, ...)."""
    shape = shape_of(value)
    return em.reshape(value, shape=(size, shape[0] // size) + tuple(shape[1:]))


def defbatch_folded(name):
    """An op over a leading N dimension (pooling): the batch folded into N and out again."""
    defbatch(name, lambda em, operands, batched, size, **attrs:
             unfold(em, getattr(em, name)(fold(em, operands[0]), **attrs), size))


def defbatch_lane_by_lane(name):
    """An op with no vectorized form over its operands' batch (a random op's key): the op once per
    lane, on that lane's operands, the results stacked (concatenated in a balanced tree)."""
    def rule(em, operands, batched, size, **attrs):
        lanes = []
        for b in range(size):
            args = []
            for v, is_batched in zip(operands, batched):
                if is_batched:
                    shape = shape_of(v)
                    row = em.slice(v, start=(b,) + (0,) * (len(shape) - 1), limit=(b + 1,) + tuple(shape[1:]),
                                   stride=(1,) * len(shape))
                    v = em.reshape(row, shape=tuple(shape[1:]))
                args.append(v)
            out = getattr(em, name)(*args, **attrs)
            lanes.append(em.reshape(out, shape=(1,) + tuple(shape_of(out))))
        while len(lanes) > 1:
            lanes = [em.concat(lanes[i], lanes[i + 1], axis=0) if i + 1 < len(lanes) else lanes[i]
                     for i in range(0, len(lanes), 2)]
        return lanes[0]
    defbatch(name, rule)


def clamped(em, indices, rows):
    """Indices clamped to [0, rows - 1], as the indexing ops clamp them."""
    dtype, shape = dtype_of(indices), tuple(shape_of(indices))
    low = em.splat(value=0.0, shape=shape, dtype=dtype)
    high = em.splat(value=float(rows - 1), shape=shape, dtype=dtype)
    return em.maximum(em.minimum(indices, high), low)


def lane_offsets(em, indices, rows):
    """Indices of a batched table flattened to (B*rows, ...): lane b's index plus b * rows."""
    dtype, shape = dtype_of(indices), tuple(shape_of(indices))
    lane = em.iota(shape=shape, dtype=dtype, dimension=0)
    return em.add(clamped(em, indices, rows), em.mul(lane, em.splat(value=float(rows), shape=shape, dtype=dtype)))


__all__ = ["Emitter", "defbatch", "defbatch_elementwise", "defbatch_folded", "defbatch_lane_by_lane", "defbatch_nullary",
           "defbatch_with_attrs", "fold", "unfold", "lift", "lifted", "move_axis", "shift", "clamped", "lane_offsets"]
