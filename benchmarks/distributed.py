"""Data parallel on MPI (tgraph.distributed), in new processes under `mpiexec -n 1` and `-n 2`.

As a script under mpiexec, every process measures, and process 0 prints one JSON line:
- the MLP 784-512-512-10 train step (value_and_grad averaged over the processes by
  `tg.distributed.data_parallel`, then Adam; one compiled function), with a fixed batch of 256 per
  process (weak scaling: 2 processes train on twice the data per step);
- the all_reduce of that step's gradient bucket alone (its 669,706 f32 in one compiled all_reduce),
  for its share of the step;
- a compiled all_reduce (sum) of 4 MiB and 64 MiB of f32 against mpi4py's own `Allreduce` on the
  same numpy arrays.
Each process runs tgraph's code on one thread (TGRAPH_NUM_THREADS=1): 2 processes use the 2 cores.
Every timed call starts after a barrier; the median over the repetitions, the slowest process's."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

REPS = 20
BUFFERS_MIB = (4, 64)
TIMEOUT_S = 600
HERE = os.path.dirname(os.path.abspath(__file__))


def _timed(call, comm, reps=REPS):
    """Median seconds of `call` over `reps` barrier-started repetitions, the slowest process's."""
    call()
    call()
    times = []
    for _ in range(reps):
        comm.Barrier()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return max(comm.allgather(statistics.median(times)))


def run():
    from mpi4py import MPI

    import tgraph as tg
    from tgraph import distributed
    from workloads import MLP_SIZES, mlp_inputs
    import impl_tgraph

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    x, w1, b1, w2, b2, w3, b3, labels = mlp_inputs(np.random.default_rng(rank))
    params = [w1, b1, w2, b2, w3, b3]
    optimizer = tg.optim.adam(1e-3)
    value_and_grad = distributed.data_parallel(tg.value_and_grad(lambda ps, x, y: impl_tgraph.mlp_loss(x, *ps, y)))

    @tg.jit
    def step(params, opt_state, x, labels):
        value, grads = value_and_grad(params, x, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return tg.optim.apply_updates(params, updates), opt_state, value

    state = optimizer.init(params)
    result = {"processes": size, "step_s": _timed(lambda: step(params, state, x, labels), comm)}
    bucket = sum(p.size for p in params)
    flat = np.ones(bucket, np.float32)
    reduce_mean = tg.jit(lambda v: distributed.all_reduce(v, "mean"))
    result["bucket_elements"] = bucket
    result["bucket_all_reduce_s"] = _timed(lambda: reduce_mean(flat), comm)
    reduce_sum = tg.jit(lambda v: distributed.all_reduce(v))
    for mib in BUFFERS_MIB:
        data = np.ones(mib * 2 ** 20 // 4, np.float32)
        out = np.empty_like(data)
        reps = REPS if mib < 32 else 5
        result[f"tgraph_{mib}mib_s"] = _timed(lambda: reduce_sum(data), comm, reps)
        result[f"mpi4py_{mib}mib_s"] = _timed(lambda: comm.Allreduce(data, out, op=MPI.SUM), comm, reps)
        check = reduce_sum(data)
        result[f"check_{mib}mib"] = bool(np.all(check == size))
    result["batch"], result["mlp_sizes"] = len(x), list(MLP_SIZES)
    if rank == 0:
        print(json.dumps(result), flush=True)


def _mpiexec():
    return shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")


def measure(process_counts=(1, 2)):
    """[result per process count] (the script's JSON), or (None, why) when MPI is missing."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None, "the distributed extra is not installed (pip install -e '.[distributed]')"
    mpiexec = _mpiexec()
    if mpiexec is None:
        return None, "no mpiexec (pip install -e '.[distributed]' brings MPICH's)"
    results = []
    env = dict(os.environ, TGRAPH_NUM_THREADS="1", OMP_NUM_THREADS="1", TGRAPH_CACHE_DIR="")
    for n in process_counts:
        proc = subprocess.run([mpiexec, "-n", str(n), sys.executable, os.path.abspath(__file__)], env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S, cwd=HERE, start_new_session=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode != 0 or not lines:
            tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
            return None, f"mpiexec -n {n} failed: {tail}"
        results.append(json.loads(lines[-1]))
    return results, None


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    run()
