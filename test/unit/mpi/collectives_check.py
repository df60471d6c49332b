"""Run under `mpiexec -n N` (test_distributed.py): every collective's value, JVP, VJP and a
second-order derivative on every rank, interpreted and compiled, against its meaning as one
program over all ranks' data (closed forms in float64 numpy, from every rank's inputs gathered
with mpi4py). The SPMD convention: the objective is the sum over ranks of each rank's scalar.
Prints one line per check; exits 1 at the first mismatch (mpiexec then fails)."""

import sys

import numpy as np
from mpi4py import MPI

import tgraph as tg
from tgraph import distributed as dist

comm = MPI.COMM_WORLD
rank, n = comm.Get_rank(), comm.Get_size()
TOL = 1e-12


def everyone(a):
    """Every rank's array, stacked in rank order."""
    out = np.empty((n,) + a.shape, a.dtype)
    comm.Allgather(np.ascontiguousarray(a), out)
    return out


def check(what, got, want):
    error = float(np.max(np.abs(np.asarray(got) - want))) if np.size(want) else 0.0
    status = "ok" if error <= TOL * max(1.0, float(np.max(np.abs(want)))) and np.shape(got) == np.shape(want) else "FAIL"
    print(f"rank {rank}: {what}: {status} (max error {error:.1e})", flush=True)
    if status != "ok":
        comm.Abort(1)


rng = np.random.default_rng(100 + rank)
x = rng.standard_normal((2 * n, 2 * n))
x[0, 0] = 7.0  # the same value on every rank: a tie in max and min, whose derivative is shared
t = rng.standard_normal(x.shape)
X, T = everyone(x), everyone(t)


def blocks(a, axis):
    return np.split(a, n, axis=axis)


def cases():
    """(name, tg function of x, this rank's value, d/dx_rank of sum_r <W_r, out_r> given every
    rank's seed W (out's shape), the tangent of out along t)."""
    for op in ("sum", "mean"):
        scale = 1.0 if op == "sum" else 1.0 / n
        yield (f"all_reduce {op}", lambda v, op=op: dist.all_reduce(v, op), X.sum(0) * scale,
               lambda W, scale=scale: W.sum(0) * scale, T.sum(0) * scale)
    for op in ("max", "min"):
        holders = (X == getattr(X, op)(axis=0)).astype(float)
        count = holders.sum(axis=0)
        yield (f"all_reduce {op}", lambda v, op=op: dist.all_reduce(v, op), getattr(X, op)(0),
               lambda W, h=holders, c=count: h[rank] / c * W.sum(0), (holders * T).sum(0) / count)
    for axis in (0, 1):
        yield (f"all_gather axis {axis}", lambda v, axis=axis: dist.all_gather(v, axis),
               np.concatenate(list(X), axis=axis), lambda W, axis=axis: sum(blocks(Wr, axis)[rank] for Wr in W),
               np.concatenate(list(T), axis=axis))
        yield (f"reduce_scatter axis {axis}", lambda v, axis=axis: dist.reduce_scatter(v, axis),
               blocks(X.sum(0), axis)[rank], lambda W, axis=axis: np.concatenate(list(W), axis=axis),
               blocks(T.sum(0), axis)[rank])
    root = n - 1
    yield ("broadcast", lambda v: dist.broadcast(v, root), X[root],
           lambda W: W.sum(0) if rank == root else np.zeros_like(x), T[root])


for name, fn, value, grad_of, tangent in cases():
    w = rng.standard_normal(value.shape)  # this rank's seed: the cotangent of its output
    grad = grad_of(everyone(w))

    def objective(v, seed, fn=fn):
        return tg.sum(seed * fn(v))

    check(f"{name} value (interpreted)", tg.interpret(tg.trace(fn, [x]), x), value)
    check(f"{name} value (compiled)", tg.jit(fn)(x), value)
    check(f"{name} vjp (compiled)", tg.grad(objective)(x, w), grad)
    check(f"{name} vjp (interpreted)", tg.interpret(tg.grad(objective).graph(x, w), x, w), grad)
    check(f"{name} jvp (compiled)", tg.jvp(fn)(x, t)[1], tangent)
    check(f"{name} vmap", tg.vmap(fn)(np.stack([x, 2 * x]))[1], 2 * value)

# Second order: F = sum_r <w_r, (sum_s x_s)^2> -> dF/dx_s = 2 (sum_r w_r) (sum x); its derivative along t:
# 2 (sum_r w_r) (sum_s t_s). F = sum_r <w_r, gather(x)^2>: along t, 2 (sum_r block_s(w_r)) t_s.
w = rng.standard_normal(x.shape)
W = everyone(w)
second = tg.jvp(tg.grad(lambda v, seed: tg.sum(seed * dist.all_reduce(v, "sum") ** 2)), wrt=0)(x, w, t)[1]
check("all_reduce sum: jvp of vjp (order 2)", second, 2 * W.sum(0) * T.sum(0))
w = rng.standard_normal((2 * n * n, 2 * n))
W = everyone(w)
gathered_square = tg.jvp(tg.grad(lambda v, seed: tg.sum(seed * dist.all_gather(v) ** 2)), wrt=0)(x, w, t)[1]
want = 2 * sum(blocks(Wr, 0)[rank] for Wr in W) * t
check("all_gather: jvp of vjp (order 2)", gathered_square, want)
# In a loop (scan), compiled and in reverse mode: h <- all_reduce(h / 2) three times from x, then sum(h^2)
# on every rank. h_1 = sum_s x_s / 2, then each step multiplies by n / 2: dF/dx_r = n * 2 h_3 * (n/2)^2 / 2.
def looped(v):
    h, _ = tg.scan(lambda h, _: (dist.all_reduce(h * 0.5), None), v, None, length=3)
    return tg.sum(h ** 2)


h = X.sum(0) * 0.5 * (0.5 * n) ** 2
check("all_reduce in a scan: value (compiled)", tg.jit(looped)(x), np.sum(h ** 2))
check("all_reduce in a scan: grad (compiled)", tg.grad(looped)(x), n * 2 * h * (0.5 * n) ** 2 * 0.5)
print(f"rank {rank}: all checks passed on {n} processes", flush=True)
sys.exit(0)
