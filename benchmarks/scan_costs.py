"""What a loop costs besides its time, each measured in a new process:

- compile time of the RNN's value_and_grad over a scan of 10 and of 10,000 steps (the first
  call's time less the second's, tgraph's cache off, JAX's persistent cache off): a loop stays a
  loop, so the two should be nearly equal;
- the peak memory of one call of the RNN's value_and_grad (the benchmark's 1,000 steps), with and
  without tgraph's `checkpoint=` (JAX's lax.scan saves every step): the rise of the process's peak
  resident memory (VmHWM, reset through /proc/self/clear_refs) during that call, after compiling.

As a script, `python benchmarks/scan_costs.py compile SYSTEM STEPS` or `... memory SYSTEM CHECKPOINT`
prints one JSON object."""

import json
import sys
import time

import numpy as np

import new_process
from systems import short
from workloads import RNN_CHECKPOINT, RNN_STEPS, rnn_inputs

COMPILE_STEPS = (10, 10_000)
SYSTEMS = ("tgraph", "jax")


def _inputs(steps):
    inputs = rnn_inputs(np.random.default_rng(0))
    if steps != RNN_STEPS:
        inputs[0] = np.resize(inputs[0], (steps,) + inputs[0].shape[1:])
    return inputs


def _step(system, inputs, checkpoint=None, lazy=False):
    """The RNN's value_and_grad as a function of no arguments: compiled now, or on its first call
    when `lazy`."""
    if system == "tgraph":
        import impl_tgraph
        import tgraph as tg
        step = tg.compile_scalar(impl_tgraph.rnn_loss(checkpoint), inputs, wrt=(1, 2, 3), eager=not lazy)
        return lambda: step.value_and_grad(*inputs)
    import impl_jax
    import jax
    fn = jax.jit(jax.value_and_grad(impl_jax.rnn_loss, argnums=(1, 2, 3)))
    if not lazy:
        fn = fn.lower(*inputs).compile()
    return lambda: jax.block_until_ready(fn(*inputs))


def _subprocess(*args):
    return new_process.run(__file__, *args)


def measure(systems, samples):
    """Rows for the report: two compile-time rows (cells with times) and memory notes."""
    rows, notes = [], []
    for steps in COMPILE_STEPS:
        cells = {s: {"status": "n/a"} for s in systems}
        for system in (s for s in SYSTEMS if s in systems):
            try:
                seconds = [_subprocess("compile", system, steps)["seconds"] for _ in range(samples)]
                cells[system] = {"status": "ok", "times_s": seconds, "reps": len(seconds),
                                 "median_s": float(np.median(seconds)), "check_error": 0.0, "check_ok": True}
            except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
                cells[system] = {"status": "error", "error": short(err)}
        rows.append((f"scan_compile_{steps}", f"compile time: RNN value_and_grad over a {steps:,}-step scan", cells))
    for system, checkpoint in (("tgraph", None), ("tgraph", RNN_CHECKPOINT), ("jax", None)):
        if system not in systems:
            continue
        label = f"{system}, {'checkpoint=' + str(checkpoint) if checkpoint else 'every step saved'}"
        try:
            rise = _subprocess("memory", system, checkpoint or 0)["peak_rise_bytes"]
            notes.append(f"peak memory of one RNN value_and_grad call ({RNN_STEPS} steps): {label}: "
                         f"{rise / 2**20:.1f} MiB")
        except Exception as err:  # noqa: BLE001
            notes.append(f"peak memory of one RNN value_and_grad call: {label}: {short(err)}")
    return rows, notes


def main(what, system, value):
    # The thread settings come from the parent's environment (threads.configure ran there).
    if what == "compile":  # the first call less a later one: the compile time, without the run
        inputs = _inputs(int(value))
        start = time.perf_counter()
        call = _step(system, inputs, lazy=True)
        call()
        first = time.perf_counter() - start
        start = time.perf_counter()
        call()
        print(json.dumps({"seconds": first - (time.perf_counter() - start)}))
    else:
        call = _step(system, _inputs(RNN_STEPS), int(value) or None)
        print(json.dumps({"peak_rise_bytes": new_process.peak_rise(call)}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
