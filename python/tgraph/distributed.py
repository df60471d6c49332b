"""Data parallel over MPI processes: every process runs the same program (SPMD) on its own slice of
the data, and collectives in the graph combine their values.

Run a script on N processes with `mpiexec -n N python script.py` (one machine: shared memory; a
cluster: `mpiexec -f hostfile -n N ...`). Without mpiexec a script is rank 0 of 1 and every
collective is the identity. Needs `pip install 'tgraph[distributed]'` (mpi4py and MPICH) for more
than one process and for compiled collectives.

    rank(), size(), barrier()
    all_reduce(x, op="sum"|"mean"|"max"|"min"), all_gather(x, axis=0), reduce_scatter(x, axis=0),
    broadcast(x, root=0)            -- tg ops in traced functions, with derivatives and vmap rules
    average(tree)                   -- every float leaf's mean over the processes, in one all_reduce
    data_parallel(fn)               -- fn with its float outputs averaged (a value_and_grad: the
                                       loss and gradients of the whole batch)"""

import functools

import numpy as np

from .ops import _var, concatenate, reshape, slice as slice_
from .support import mpi
from .support.errors import TGraphError, user_facing
from .support.pytrees import tree_flatten, tree_unflatten
from .graph import Var

REDUCTIONS = mpi.REDUCTIONS


def rank():
    """This process's rank in the MPI world (0 without mpiexec)."""
    return mpi.rank()


def size():
    """The number of processes in the MPI world (1 without mpiexec)."""
    return mpi.size()


def barrier():
    """Wait until every process reaches this point."""
    comm = mpi.world()
    if comm is not None:
        comm.Barrier()


def _collective(name, x, **attrs):
    return _var(x, f"tg.{name}").trace.emit(name, [x], ranks=mpi.size(), **attrs)


@user_facing
def all_reduce(x, op="sum"):
    """The elementwise `op` ("sum", "mean", "max", "min") of x over all processes, on every process."""
    if op not in REDUCTIONS:
        raise TGraphError(f"all_reduce: op must be one of {', '.join(REDUCTIONS)}, got {op!r}")
    return _collective("all_reduce", x, op=op)


@user_facing
def all_gather(x, axis=0):
    """Every process's x concatenated along `axis` in rank order, on every process."""
    return _collective("all_gather", x, axis=_axis(x, axis, "all_gather"))


@user_facing
def reduce_scatter(x, axis=0):
    """The sum of x over the processes, cut into size() blocks along `axis`: process r gets block r."""
    return _collective("reduce_scatter", x, axis=_axis(x, axis, "reduce_scatter"))


@user_facing
def broadcast(x, root=0):
    """Process `root`'s x, on every process."""
    return _collective("broadcast", x, root=root)


@user_facing
def shard(x, grid, axes):
    """x annotated as split over a grid of processes (sizes `grid`, their product the number of
    processes): dimension d is cut into grid[axes[d]] blocks along grid axis axes[d], or kept
    whole on every process where axes[d] is -1. Its value is x's; compiled with `spmd`, each
    process holds and computes only its blocks (upstream's shard partitioning)."""
    return _var(x, "tg.shard").trace.emit("shard", [x], grid=tuple(int(g) for g in grid),
                                          axes=tuple(int(a) for a in axes))


def _axis(x, axis, what):
    rank_ = _var(x, f"tg.{what}").spec.rank
    if not -rank_ <= axis < rank_:
        raise TGraphError(f"{what}: axis {axis} is out of range for {x.spec}")
    return axis % rank_


@user_facing
def average(tree):
    """The mean over the processes of every float leaf of `tree` (Vars), as one flat bucket per
    dtype: the leaves are flattened, concatenated, all-reduced once and split again (as DDP's
    gradient buckets). Other leaves pass through."""
    leaves, treedef = tree_flatten(tree)
    out = list(leaves)
    by_dtype = {}
    for i, leaf in enumerate(leaves):
        if isinstance(leaf, Var) and leaf.spec.dtype in ("f32", "f64"):
            by_dtype.setdefault(leaf.spec.dtype, []).append(i)
        elif isinstance(leaf, Var) and leaf.spec.dtype in ("f16", "bf16"):
            raise TGraphError(f"average: a {leaf.spec.dtype} leaf ({leaf.spec}); MPI has no {leaf.spec.dtype} sum: "
                              "cast it to f32 first")
    for positions in by_dtype.values():
        flat = [reshape(leaves[i], (leaves[i].spec.size,)) for i in positions]
        bucket = all_reduce(concatenate(flat) if len(flat) > 1 else flat[0], op="mean")
        offset = 0
        for i in positions:
            n = leaves[i].spec.size
            out[i] = reshape(slice_(bucket, (offset,), (offset + n,)), leaves[i].spec.shape)
            offset += n
    return tree_unflatten(treedef, out)


def data_parallel(fn):
    """`fn` with its float outputs averaged over the processes in one all_reduce: give it a
    `tg.value_and_grad(loss)` whose loss is a mean over the process's batch slice, and with equal
    slices it returns the loss and gradients of the whole batch on every process."""

    @functools.wraps(fn)
    def averaged(*args, **kwargs):
        return average(fn(*args, **kwargs))

    return averaged


def batch_slice(array, axis=0):
    """This process's block of a numpy array cut into size() equal blocks along `axis` (the data
    slice of data parallel)."""
    array = np.asarray(array)
    n, r = mpi.size(), mpi.rank()
    if array.shape[axis] % n:
        raise TGraphError(f"batch_slice: dimension {axis} of shape {array.shape} does not split into {n} equal blocks")
    return np.split(array, n, axis=axis)[r]


class spmd:
    """`spmd(fn, specs)`: fn traced at the global `specs` (its inputs and results annotated with
    `shard`), compiled for this process of the grid: `f(*blocks)` takes this process's blocks of
    the inputs and returns its blocks of the results. Upstream's sharding-propagation and
    shard-partition decide the per-process computation and insert the collectives it needs
    (tg-partition-shards): a matmul whose contracted dimension is split computes partial products
    and all-reduces them. `f.local_input_specs` / `f.local_output_specs`: the blocks' types.
    `tg.interpret(f.graph, *whole_arrays)` is the unsharded meaning, on any number of processes."""

    @user_facing
    def __init__(self, fn, specs):
        from .backends.cpu import CpuExecutable
        from .graph import trace

        self.graph = trace(fn, specs)
        self.local_input_specs, self.local_output_specs = _local_specs(self.graph)
        self._executable = CpuExecutable(self.graph)
        exe = self._executable
        exe.bind(exe._entry, exe.name, self.local_input_specs, self.local_output_specs, exe.allocations)

    @user_facing
    def __call__(self, *blocks):
        results = self._executable(*blocks)
        return results[0] if len(results) == 1 else tuple(results)

    def __repr__(self):
        ins = ", ".join(map(str, self.local_input_specs))
        outs = ", ".join(map(str, self.local_output_specs))
        return f"<tgraph.distributed.spmd @{self.graph.name} per process: ({ins}) -> {outs}>"


def _local_specs(graph):
    """The blocks' specs of the graph's inputs (each must be annotated by a tg.shard user) and
    results (each must be a tg.shard result); the grid's size must be the number of processes."""
    from .support.dtypes import TensorSpec
    from tgraph.dialect.core import OPS

    decode = OPS["shard"].decode_attrs
    body = graph.func_op().regions[0].blocks[0]

    def local(spec, attrs):
        grid, axes = attrs["grid"], attrs["axes"]
        if int(np.prod(grid)) != mpi.size():
            raise TGraphError(f"spmd: the grid {list(grid)} has {int(np.prod(grid))} processes but this run has "
                              f"{mpi.size()} (mpiexec -n {int(np.prod(grid))})")
        return TensorSpec(tuple(d if a == -1 else d // grid[a] for d, a in zip(spec.shape, axes)), spec.dtype)

    inputs = []
    for i, (argument, spec) in enumerate(zip(body.arguments, graph.input_specs)):
        users = [use.owner for use in argument.uses if use.owner.name == "tg.shard"]
        if not users:
            raise TGraphError(f"spmd: input {i} ({spec}) is not annotated: pass it through tg.distributed.shard "
                              f"(axes={(-1,) * spec.rank} keeps it whole on every process)")
        inputs.append(local(spec, decode(users[0])))
    returned = list(body.operations)[-1].operands
    outputs = []
    for k, (value, spec) in enumerate(zip(returned, graph.output_specs)):
        owner = value.owner  # an op, or the block of an argument returned as it is
        if getattr(owner, "name", None) != "tg.shard":
            raise TGraphError(f"spmd: result {k} ({spec}) is not annotated: return tg.distributed.shard(result, ...) "
                              "to say how each process holds it")
        outputs.append(local(spec, decode(owner)))
    return inputs, outputs
