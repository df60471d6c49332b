"""Run under `mpiexec -n N` (test_distributed.py): tensor-parallel programs compiled with
tg.distributed.spmd (upstream's shard partitioning) against the unsharded numpy result: a
row-parallel matmul (the contracted dimension split: partial products, all-reduced), a
column-parallel one (each process its columns), and a two-layer tanh MLP in Megatron's layout
(the first layer column-parallel, the second row-parallel). Exits 1 at the first mismatch."""

import sys

import numpy as np
from mpi4py import MPI

import tgraph as tg
from tgraph import distributed as dist

comm = MPI.COMM_WORLD
rank, n = comm.Get_rank(), comm.Get_size()
grid = (n,)
rng = np.random.default_rng(0)  # the same whole arrays on every process
A, B = rng.standard_normal((8, 4 * n)), rng.standard_normal((4 * n, 6))
X, W1, W2 = rng.standard_normal((5, 8)), rng.standard_normal((8, 4 * n)), rng.standard_normal((4 * n, 3))


def block(a, axis):
    return np.ascontiguousarray(np.split(a, n, axis=axis)[rank])


def check(what, got, want):
    error = float(np.max(np.abs(got - want)))
    ok = got.shape == want.shape and error <= 1e-12 * max(1.0, float(np.max(np.abs(want))))
    print(f"rank {rank}: {what}: {'ok' if ok else 'FAIL'} (max error {error:.1e}, block {got.shape})", flush=True)
    if not ok:
        comm.Abort(1)


def row_parallel(a, b):
    a, b = dist.shard(a, grid, (-1, 0)), dist.shard(b, grid, (0, -1))
    return dist.shard(a @ b, grid, (-1, -1))


def column_parallel(a, b):
    a, b = dist.shard(a, grid, (-1, -1)), dist.shard(b, grid, (-1, 0))
    return dist.shard(a @ b, grid, (-1, 0))


def mlp(x, w1, w2):
    x, w1, w2 = dist.shard(x, grid, (-1, -1)), dist.shard(w1, grid, (-1, 0)), dist.shard(w2, grid, (0, -1))
    return dist.shard(tg.tanh(x @ w1) @ w2, grid, (-1, -1))


f = dist.spmd(row_parallel, [tg.f64[A.shape], tg.f64[B.shape]])
check("row-parallel matmul", f(block(A, 1), block(B, 0)), A @ B)
check("its unsharded meaning (interpreter)", tg.interpret(f.graph, A, B), A @ B)
f = dist.spmd(column_parallel, [tg.f64[A.shape], tg.f64[B.shape]])
check("column-parallel matmul", f(A, block(B, 1)), block(A @ B, 1))
f = dist.spmd(mlp, [tg.f64[X.shape], tg.f64[W1.shape], tg.f64[W2.shape]])
check("tensor-parallel MLP", f(X, block(W1, 1), block(W2, 0)), np.tanh(X @ W1) @ W2)
print(f"rank {rank}: spmd checks passed on {n} processes", flush=True)
sys.exit(0)
