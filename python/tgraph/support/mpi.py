"""The MPI process group, through mpi4py (`pip install 'tgraph[distributed]'`): the world's rank and
size, and what compiled code needs to call the same MPI library: its path and the raw handles of
the communicator, datatypes and reduction ops (read from mpi4py, so any MPI ABI works).

mpi4py is imported on first use; without it a single process is rank 0 of 1, and the collectives'
reference semantics (identity on one rank) still hold, but compiled collectives need the library."""

import ctypes
import functools
import importlib
import os
import re
import sys

import numpy as np

from .errors import TGraphError

INSTALL_HINT = "pip install 'tgraph[distributed]' (mpi4py and the mpich wheel)"
REDUCTIONS = ("sum", "mean", "max", "min")
DTYPES = {"f32": "FLOAT", "f64": "DOUBLE", "i32": "INT32_T", "i64": "INT64_T"}


@functools.lru_cache(maxsize=None)
def module():
    """mpi4py.MPI (MPI initialized, thread level 'serialized' or what the library grants), or None."""
    try:
        import mpi4py
    except ImportError:
        return None
    mpi4py.rc.thread_level = "serialized"  # tgraph's OpenMP workers never call MPI; the main thread does
    mpi = importlib.import_module("mpi4py.MPI")
    if mpi.COMM_WORLD.Get_size() > 1:
        _abort_on_uncaught_exceptions(mpi)
    return mpi


def _abort_on_uncaught_exceptions(mpi):
    """A process that dies of an exception takes the others down (MPI_Abort), as `python -m
    mpi4py` does: they would otherwise wait for it forever in their next collective."""
    previous = sys.excepthook

    def hook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        mpi.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def require(what):
    """mpi4py.MPI, or a TGraphError saying how to install it."""
    mpi = module()
    if mpi is None:
        raise TGraphError(f"{what} needs mpi4py and an MPI library: {INSTALL_HINT}")
    return mpi


def world():
    mpi = module()
    return mpi.COMM_WORLD if mpi is not None else None


def rank():
    comm = world()
    return comm.Get_rank() if comm is not None else 0


def size():
    comm = world()
    return comm.Get_size() if comm is not None else 1


def check_size(ranks, what):
    if ranks != size():
        raise TGraphError(f"{what} was built for {ranks} processes but this run has {size()}: trace it again in "
                          "this run (under `mpiexec -n N`, every process traces the same program)")


@functools.lru_cache(maxsize=None)
def library_path():
    """The MPI shared library mpi4py loaded (compiled code is linked against the same one)."""
    require("compiled collectives")
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "/libmpi" in line}
    found = sorted(p for p in paths if re.fullmatch(r"libmpi(_\w+)?\.so(\.\d+)*", os.path.basename(p)))
    if not found:
        raise TGraphError("mpi4py is loaded but its MPI library (libmpi) was not found among the process's libraries")
    ctypes.CDLL(found[0], mode=ctypes.RTLD_GLOBAL)  # the JIT resolves MPI_* through the process
    return found[0]


@functools.lru_cache(maxsize=None)
def abi():
    """{"handle_bits": 32 or 64, "comm": COMM_WORLD, "in_place": MPI_IN_PLACE's address,
    "dtypes": {tg dtype: handle}, "ops": {"sum"|"max"|"min": handle}} of the loaded MPI."""
    mpi = require("compiled collectives")
    bits = 8 * mpi._sizeof(mpi.COMM_WORLD)  # MPICH: int handles; Open MPI: pointers

    def handle(obj):
        return _signed(int(obj.handle), bits)

    return {"handle_bits": bits, "comm": handle(mpi.COMM_WORLD),
            "in_place": _signed(mpi.buffer(mpi.IN_PLACE).address),  # MPICH: (void *) -1
            "dtypes": {d: handle(getattr(mpi, name)) for d, name in DTYPES.items()},
            "ops": {op: handle(getattr(mpi, op.upper())) for op in ("sum", "max", "min")},
            "library": library_path()}


def _signed(value, bits=64):
    """An address or handle as the signed integer an MLIR constant of that width holds."""
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


# ------------------------------------------------------------------ reference semantics (numpy)
def _op(name):
    mpi = require(f"tg.all_reduce(op={name!r})")
    return {"sum": mpi.SUM, "mean": mpi.SUM, "max": mpi.MAX, "min": mpi.MIN}[name]


def all_reduce(x, op):
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return np.array(x, copy=True)
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    comm.Allreduce(x, out, op=_op(op))
    return out / comm.Get_size() if op == "mean" else out


def all_gather(x, axis):
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return np.array(x, copy=True)
    blocks = np.empty((comm.Get_size(),) + x.shape, x.dtype)
    comm.Allgather(np.ascontiguousarray(x), blocks)
    return np.concatenate(list(blocks), axis=axis)


def reduce_scatter(x, axis):
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return np.array(x, copy=True)
    n = comm.Get_size()
    blocks = np.ascontiguousarray(np.moveaxis(x.reshape(x.shape[:axis] + (n, x.shape[axis] // n) + x.shape[axis + 1:]),
                                              axis, 0))
    out = np.empty(blocks.shape[1:], x.dtype)
    comm.Reduce_scatter_block(blocks, out, op=_op("sum"))
    return out


def broadcast(x, root):
    comm = world()
    out = np.array(x, copy=True)
    if comm is not None and comm.Get_size() > 1:
        comm.Bcast(out, root=root)
    return out


def reduce_to_root(x, root):
    comm = world()
    if comm is None or comm.Get_size() == 1:
        return np.array(x, copy=True)
    out = np.zeros_like(x)
    comm.Reduce(np.ascontiguousarray(x), out if comm.Get_rank() == root else None, op=_op("sum"), root=root)
    return out
