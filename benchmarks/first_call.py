"""First-call (compile) time of the MLP value_and_grad, each measurement in a fresh process.

As a script, `python benchmarks/first_call.py SYSTEM` imports numpy and that system only, makes the inputs,
then times from building the call (tgraph.compile_scalar, jax.jit, torch.compile ...) to its first
result, and prints {"seconds": ..., "loss": ...} as JSON. Imports are not timed.

`measure` runs that script per system twice: "cold" with the system's on-disk compilation cache
pointed at a new empty folder, then "warm" in another new process reusing that folder. tgraph's
cache is TGRAPH_CACHE_DIR (while tgraph has no cache, both are cold), JAX's the persistent
compilation cache, torch.compile's the inductor cache; torch eager has none. Samples are
interleaved across systems like the other workloads."""

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from systems import SYSTEMS, short
from workloads import BY_NAME, FIRST_CALL, inputs_of

CACHE_ENV = {
    "tgraph": {"TGRAPH_CACHE_DIR": "{dir}"},
    "jax": {"JAX_COMPILATION_CACHE_DIR": "{dir}", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"},
    "torch": {},
    "torch.compile": {"TORCHINDUCTOR_CACHE_DIR": "{dir}"},
}
TIMEOUT_S = 300


def _run(system, cache_dir):
    env = dict(os.environ, **{k: v.format(dir=cache_dir) for k, v in CACHE_ENV[system].items()})
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), system], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or [f"exit {proc.returncode}"]
        raise RuntimeError(lines[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(systems, samples, expected_loss, tolerance):
    """{row name: cells} for the rows of workloads.FIRST_CALL, cells as measure.prepare makes them."""
    runs = {name: {} for name in FIRST_CALL}  # cold, then warm
    errors = {}
    for _ in range(samples):
        for system in systems:
            if system in errors:
                continue
            with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache_dir:
                try:
                    for name in runs:
                        runs[name].setdefault(system, []).append(_run(system, cache_dir))
                except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
                    errors[system] = short(err)
    cells = {name: {} for name in runs}
    for name, by_system in runs.items():
        for system in systems:
            if system in errors:
                cells[name][system] = {"status": "error", "error": errors[system]}
                continue
            seconds = [r["seconds"] for r in by_system[system]]
            error = max(abs(r["loss"] - expected_loss) / abs(expected_loss) for r in by_system[system])
            cells[name][system] = {"status": "ok", "times_s": seconds, "reps": len(seconds),
                                   "median_s": statistics.median(seconds), "check_error": error,
                                   "check_ok": error <= tolerance}
    return cells


def main(system):
    module_name, options = SYSTEMS[system]
    module = importlib.import_module(module_name)
    inputs = inputs_of(BY_NAME["mlp_value_and_grad"])
    start = time.perf_counter()
    loss, _ = module.mlp_value_and_grad(inputs, **options)()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "loss": float(loss)}))


if __name__ == "__main__":
    main(sys.argv[1])
