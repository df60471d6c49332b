"""Equal thread counts for every system, and worker threads that stop spinning soon after their work.

`configure` must run before numpy, JAX, PyTorch or tgraph is imported: they read these variables
once, when they load or start their thread pools. It imports nothing but the standard library."""

import os

# Worker threads spin for a while after their work before they sleep, which keeps them awake in a
# loop of calls; but still spinning while the next system runs, they take its cores (an OpenBLAS
# call left spinning halves the speed of threaded code right after it). measure.py runs each system
# untimed for 50 ms (--lead-in) before timing it, so spins are cut below that, where they are
# longer by default. GNU OpenMP's (PyTorch's) default spin is already short. Set only where the
# environment does not already choose.
SHORT_SPIN = {
    "OPENBLAS_THREAD_TIMEOUT": "25",  # OpenBLAS (numpy): 2^25 cycles, about 10 ms; default 2^28, about 100 ms
    "KMP_BLOCKTIME": "10",            # LLVM and Intel OpenMP (tgraph's threads): 10 ms; default 200 ms
}

THREAD_COUNTS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TGRAPH_NUM_THREADS")


def configure(threads):
    """Give every library `threads` workers and a short spin; returns the settings in force.

    XLA (JAX 0.10) has no flag for its CPU thread count (`intra_op_parallelism_threads=` in
    XLA_FLAGS is accepted and ignored): it sizes its pool from the CPUs this process may run on.
    With fewer threads than CPUs, the process is therefore pinned to the first `threads` CPUs,
    which binds every system alike; PyTorch also gets torch.set_num_threads (in impl_torch)."""
    for name in THREAD_COUNTS:
        os.environ[name] = str(threads)
    for name, value in SHORT_SPIN.items():
        os.environ.setdefault(name, value)
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
    settings = {name: os.environ[name] for name in THREAD_COUNTS + tuple(SHORT_SPIN)}
    settings["cpus"] = sorted(os.sched_getaffinity(0))
    return settings
