"""First-call (compile) times, each measurement in a fresh process: the MLP value_and_grad, and a
transformer block's (tgraph and JAX).

As a script, `python benchmarks/first_call.py SYSTEM PROGRAM` imports numpy, then times importing
that system (its impl module), making the inputs, and building the call (tgraph.compile_scalar,
jax.jit, torch.compile ...) to its first result; it prints {"seconds": (build to first result),
"import_s": (the import), "loss": ...} as JSON.

`measure` runs that script per system and program twice: "cold" with the system's on-disk
compilation cache pointed at a new empty folder, then "warm" in another new process reusing that
folder. tgraph's cache is TGRAPH_CACHE_DIR, JAX's the persistent compilation cache, torch.compile's
the inductor cache; torch eager has none. Samples are interleaved across systems like the other
workloads."""

import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from systems import SYSTEMS, short
from workloads import FIRST_CALL, FIRST_CALL_PROGRAMS

CACHE_ENV = {
    "tgraph": {"TGRAPH_CACHE_DIR": "{dir}"},
    "jax": {"JAX_COMPILATION_CACHE_DIR": "{dir}", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"},
    "torch": {},
    "torch.compile": {"TORCHINDUCTOR_CACHE_DIR": "{dir}"},
}
# The transformer block is written for tgraph and JAX (the yardstick for compile time).
PROGRAM_SYSTEMS = {"mlp": tuple(CACHE_ENV), "transformer": ("tgraph", "jax")}
TIMEOUT_S = 300


def _run(system, program, cache_dir):
    env = dict(os.environ, **{k: v.format(dir=cache_dir) for k, v in CACHE_ENV[system].items()})
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), system, program], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or [f"exit {proc.returncode}"]
        raise RuntimeError(lines[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _seconds(result, timed):
    return result["seconds"] + (result["import_s"] if timed == "import" else 0.0)


def measure(systems, samples, expected_losses, tolerance):
    """{row name: cells} for the rows of workloads.FIRST_CALL, cells as measure.prepare makes them;
    `expected_losses`: {program: the float64 reference's loss}."""
    runs = {}  # (program, cache) -> system -> [results]
    errors = {}  # (program, system) -> text
    stages = {}
    for _, _, program, cache, _ in FIRST_CALL:
        stages.setdefault(program, [])
        if cache not in stages[program]:
            stages[program].append(cache)  # cold before warm
    for _ in range(samples):
        for program, caches in stages.items():
            for system in systems:
                if system not in PROGRAM_SYSTEMS[program] or (program, system) in errors:
                    continue
                with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache_dir:
                    try:
                        for cache in caches:
                            runs.setdefault((program, cache), {}).setdefault(system, []).append(
                                _run(system, program, cache_dir))
                    except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
                        errors[(program, system)] = short(err)
    cells = {}
    for name, _, program, cache, timed in FIRST_CALL:
        cells[name] = {}
        for system in systems:
            if system not in PROGRAM_SYSTEMS[program]:
                cells[name][system] = {"status": "n/a"}
                continue
            if (program, system) in errors:
                cells[name][system] = {"status": "error", "error": errors[(program, system)]}
                continue
            results = runs[(program, cache)][system]
            seconds = [_seconds(r, timed) for r in results]
            expected = expected_losses[program]
            error = max(abs(r["loss"] - expected) / abs(expected) for r in results)
            cells[name][system] = {"status": "ok", "times_s": seconds, "reps": len(seconds),
                                   "median_s": statistics.median(seconds), "check_error": error,
                                   "check_ok": error <= tolerance}
    return cells


def main(system, program):
    module_name, options = SYSTEMS[system]
    builder, make_inputs = FIRST_CALL_PROGRAMS[program]
    start = time.perf_counter()
    module = importlib.import_module(module_name)
    imported = time.perf_counter()
    inputs = make_inputs(np.random.default_rng(0))
    loss, _ = getattr(module, builder)(inputs, **options)()
    seconds = time.perf_counter() - imported
    print(json.dumps({"seconds": seconds, "import_s": imported - start, "loss": float(loss)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "mlp")
