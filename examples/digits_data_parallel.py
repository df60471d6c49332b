"""Data-parallel training of the digits MLP on MPI processes:

    mpiexec -n 2 python examples/digits_data_parallel.py

Every process holds the parameters and takes its slice of each batch (tg.distributed.batch_slice);
inside the one compiled train step, `tg.distributed.data_parallel` averages the loss and gradients
of all processes in a single all_reduce (one flat bucket), so every process applies the same Adam
update. With `--check` (float64), process 0 then trains a single process on the whole batches and
prints the largest difference between the two sets of parameters: equal up to the order of the
floating-point sums. Also runs without mpiexec, as one process."""

import argparse
import sys

import numpy as np

import tgraph as tg
from tgraph import distributed
from digits import load_digits


def loss(params, x, labels):
    w1, b1, w2, b2 = params
    return tg.cross_entropy(tg.relu(x @ w1 + b1) @ w2 + b2, labels)


def init(dtype):
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((64, 128)) * np.sqrt(2 / 64)).astype(dtype), np.zeros(128, dtype),
            (rng.standard_normal((128, 10)) * np.sqrt(1 / 128)).astype(dtype), np.zeros(10, dtype)]


def train(steps, batch, dtype, parallel=True):
    """`steps` Adam steps on batches of `batch` images (the same batches on every process), each
    process computing on its slice when `parallel`, else one process on the whole batch."""
    x_train, y_train, _, _ = load_digits()
    x_train = x_train.astype(dtype)
    optimizer = tg.optim.adam(1e-2)
    value_and_grad = tg.value_and_grad(loss)
    if parallel:
        value_and_grad = distributed.data_parallel(value_and_grad)  # loss and grads averaged over processes

    @tg.jit(donate_argnums=(0, 1))
    def step(params, opt_state, x, labels):
        value, grads = value_and_grad(params, x, labels)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return tg.optim.apply_updates(params, updates), opt_state, value

    params = init(dtype)
    opt_state = optimizer.init(params)
    rng = np.random.default_rng(1)
    for i in range(steps):
        idx = rng.choice(len(x_train), batch, replace=False)
        x, labels = x_train[idx], y_train[idx]
        if parallel:
            x, labels = distributed.batch_slice(x), distributed.batch_slice(labels)
        params, opt_state, value = step(params, opt_state, x, labels)
        if distributed.rank() == 0 and (i % 20 == 0 or i == steps - 1):
            print(f"step {i:3d}  loss {float(value):.5f}", flush=True)
    return params


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=64, help="the whole batch, split over the processes")
    parser.add_argument("--check", action="store_true",
                        help="in float64, compare with one process training on the whole batches")
    args = parser.parse_args()
    rank, size = distributed.rank(), distributed.size()
    dtype = np.float64 if args.check else np.float32
    if rank == 0:
        print(f"{size} process(es), batch {args.batch} ({args.batch // size} per process), {np.dtype(dtype).name}")
    try:
        params = train(args.steps, args.batch, dtype)
        if args.check and rank == 0:
            alone = train(args.steps, args.batch, dtype, parallel=False)
            difference = max(float(np.max(np.abs(a - b))) for a, b in zip(params, alone))
            print(f"largest difference from one process on the whole batches: {difference:.2e}")
            if difference > 1e-10:
                return 1
    except tg.TGraphError as err:
        print(f"digits_data_parallel: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
