"""Collectives over the processes of an MPI run (SPMD: every process runs the same program on its
own data): all_reduce, all_gather, reduce_scatter, broadcast, reduce_to_root.

`ranks` is the number of processes the op was built for (the result shapes of all_gather and
reduce_scatter depend on it); running with another number is an error. On one process every
collective is the identity.

Derivatives follow the SPMD convention of JAX's collectives: the objective is the sum over the
processes of each process's scalar output. A collective's transpose is then the collective that
moves cotangents back where the values came from: sum all_reduce <-> sum all_reduce,
all_gather <-> reduce_scatter, broadcast <-> reduce_to_root."""

from tgraph.support import mpi

from .ad import convention, deflinear, dtype_of
from .batching import defbatch, defbatch_with_attrs
from .core import I64, I64_ARRAY, OPS, STR, defop, require
from tgraph.support.dtypes import TensorSpec

DTYPES = tuple(mpi.DTYPES)  # what MPI reduces natively


def _checked(x, ranks):
    require(x.dtype in DTYPES, f"collectives take {', '.join(DTYPES)}, got {x.dtype} (cast it first)")
    require(ranks >= 1, f"ranks must be at least 1, got {ranks}")


def _check_axis(x, axis):
    require(x.rank >= 1 and 0 <= axis < x.rank, f"axis {axis} is out of range for {x}")


def _infer_same(specs, ranks, **_):
    (x,) = specs
    _checked(x, ranks)
    return x


def _infer_all_reduce(specs, op, ranks):
    require(op in mpi.REDUCTIONS, f"op must be one of {', '.join(mpi.REDUCTIONS)}, got {op!r}")
    x = _infer_same(specs, ranks)
    require(op != "mean" or x.dtype in ("f32", "f64"), f"a mean all_reduce needs floats, got {x.dtype}")
    return x


def _infer_all_gather(specs, axis, ranks):
    (x,) = specs
    _checked(x, ranks)
    _check_axis(x, axis)
    return TensorSpec(x.shape[:axis] + (x.shape[axis] * ranks,) + x.shape[axis + 1:], x.dtype)


def _infer_reduce_scatter(specs, axis, ranks):
    (x,) = specs
    _checked(x, ranks)
    _check_axis(x, axis)
    require(x.shape[axis] % ranks == 0, f"dimension {axis} of {x} does not split into {ranks} equal blocks")
    return TensorSpec(x.shape[:axis] + (x.shape[axis] // ranks,) + x.shape[axis + 1:], x.dtype)


def _infer_rooted(specs, root, ranks):
    x = _infer_same(specs, ranks)
    require(0 <= root < ranks, f"root {root} is not a rank of {ranks} processes")
    return x


def _run(reference, what):
    """The interpreter rule: the numpy/mpi4py reference, after checking the run's size."""
    def interpret(x, ranks, **attrs):
        mpi.check_size(ranks, f"tg.{what}")
        return reference(x, **attrs)
    return interpret


defop("all_reduce", "collectives", ("x",), _infer_all_reduce, _run(mpi.all_reduce, "all_reduce"),
      attrs={"op": STR, "ranks": I64},
      doc="elementwise sum, mean, max or min over the processes; every process gets the result")
defop("all_gather", "collectives", ("x",), _infer_all_gather, _run(mpi.all_gather, "all_gather"),
      attrs={"axis": I64, "ranks": I64},
      doc="every process's x concatenated along `axis`, in rank order; every process gets the result")
defop("reduce_scatter", "collectives", ("x",), _infer_reduce_scatter, _run(mpi.reduce_scatter, "reduce_scatter"),
      attrs={"axis": I64, "ranks": I64},
      doc="the sum over the processes, split into `ranks` blocks along `axis`: process r gets block r")
defop("broadcast", "collectives", ("x",), _infer_rooted, _run(mpi.broadcast, "broadcast"),
      attrs={"root": I64, "ranks": I64}, doc="process `root`'s x, on every process")
defop("reduce_to_root", "collectives", ("x",), _infer_rooted, _run(mpi.reduce_to_root, "reduce_to_root"),
      attrs={"root": I64, "ranks": I64},
      doc="the sum over the processes on process `root`, zeros on the others (broadcast's transpose)")


# ----------------------------------------------------------------------------- derivatives
def _all_reduce_jvp(em, primals, tangents, result, op, ranks):
    (x,), (t,) = primals, tangents
    if t is None:
        return None
    if op in ("sum", "mean"):
        return em.all_reduce(t, op=op, ranks=ranks)
    holders, count = _holders(em, x, result, ranks)  # max/min: the tangent of the process(es) holding it
    return em.div(em.all_reduce(em.mul(holders, t), op="sum", ranks=ranks), count)


def _all_reduce_vjp(em, primals, active, ct, result, op, ranks):
    (x,) = primals
    if not active[0]:
        return [None]
    total = em.all_reduce(ct, op="sum", ranks=ranks)
    if op == "sum":
        return [total]
    if op == "mean":
        return [em.scale(total, 1.0 / ranks)]
    holders, count = _holders(em, x, result, ranks)
    return [em.div(em.mul(holders, total), count)]


def _holders(em, x, result, ranks):
    """(1 where this process holds the max/min, else 0; how many processes hold it: ties share)."""
    holders = em.cast(em.compare(x, result, direction="eq"), dtype=dtype_of(x))
    return holders, em.all_reduce(holders, op="sum", ranks=ranks)


OPS["all_reduce"].jvp = _all_reduce_jvp
OPS["all_reduce"].vjp = _all_reduce_vjp
OPS["all_reduce"].linear_in = ((0,),)
OPS["all_reduce"].linear_when = lambda op, **_: op in ("sum", "mean")
convention("all_reduce", "SPMD: the objective is the sum over processes of each one's output, so the transpose of a "
                         "sum all_reduce is a sum all_reduce of the cotangents (mean: divided by `ranks`); max/min "
                         "pass the derivative to the process(es) holding the extreme, shared equally at ties")

deflinear("all_gather", lambda em, ct, x, result, axis, ranks: em.reduce_scatter(ct, axis=axis, ranks=ranks))
deflinear("reduce_scatter", lambda em, ct, x, result, axis, ranks: em.all_gather(ct, axis=axis, ranks=ranks))
deflinear("broadcast", lambda em, ct, x, result, root, ranks: em.reduce_to_root(ct, root=root, ranks=ranks))
deflinear("reduce_to_root", lambda em, ct, x, result, root, ranks: em.broadcast(ct, root=root, ranks=ranks))
convention("all_gather", "SPMD: transpose is reduce_scatter of the cotangents (each block summed over processes)")
convention("reduce_scatter", "SPMD: transpose is all_gather of the cotangents")
convention("broadcast", "SPMD: transpose is reduce_to_root of the cotangents (their sum, on the root)")


# ----------------------------------------------------------------------------- batching
def _per_element(name):
    """The batch dimension leading: reduced or copied element by element like any other."""
    defbatch(name, lambda em, operands, batched, size, **attrs: getattr(em, name)(operands[0], **attrs))


for _name in ("all_reduce", "broadcast", "reduce_to_root"):
    _per_element(_name)
defbatch_with_attrs("all_gather", lambda size, axis, ranks: {"axis": axis + 1, "ranks": ranks})
defbatch_with_attrs("reduce_scatter", lambda size, axis, ranks: {"axis": axis + 1, "ranks": ranks})


# ----------------------------------------------------------------------------- sharding
def _infer_shard(specs, grid, axes):
    (x,) = specs
    require(len(grid) >= 1 and all(g >= 1 for g in grid), f"grid {list(grid)} must be a non-empty list of sizes >= 1")
    require(len(axes) == x.rank, f"axes needs one entry per dimension of {x} (the grid axis splitting it, or -1), "
                                 f"got {list(axes)}")
    used = [a for a in axes if a != -1]
    require(all(0 <= a < len(grid) for a in used), f"axes {list(axes)}: a grid axis must be in 0..{len(grid) - 1} or -1")
    require(len(used) == len(set(used)), f"axes {list(axes)} split two dimensions over one grid axis")
    for d, a in enumerate(axes):
        require(a == -1 or x.shape[d] % grid[a] == 0,
                f"dimension {d} of {x} does not split into {grid[a]} equal blocks (grid axis {a})")
    return x


defop("shard", "collectives", ("x",), _infer_shard, lambda x, grid, axes: x.copy(),
      attrs={"grid": I64_ARRAY, "axes": I64_ARRAY},
      doc="x, annotated as split over a process grid: dimension d into grid[axes[d]] blocks (axes[d] = -1: "
          "whole on every process); a value, not a copy (compiled through upstream's shard partitioning, each "
          "process holds and computes its blocks)")
deflinear("shard", lambda em, ct, x, result, grid, axes: em.shard(ct, grid=grid, axes=axes))
defbatch_with_attrs("shard", lambda size, grid, axes: {"grid": grid, "axes": (-1,) + tuple(axes)})
