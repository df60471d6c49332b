"""Compile time of a long graph: `value_and_grad` of a 2,000-op elementwise chain, compiled by
tgraph in a fresh process with the compilation cache off. The row watches that compile time grows
linearly with the graph (a 1,000-op chain once took 19 s and a 5,000-op chain 595 s).

As a script, `python benchmarks/compile_chain.py LENGTH` prints {"seconds": ..., "loss": ...} as
JSON: the time from tgraph.compile_scalar to the first value_and_grad result. Only tgraph is
measured; the other systems' cells are n/a."""

import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from systems import short

LENGTH = 2000
TIMEOUT_S = 600
INPUT = np.linspace(-1.0, 1.0, 16, dtype=np.float32)


def chain(ops, length):
    """The chain on `ops` (tgraph or numpy): tanh, scale and add on odd steps, sin and shift on even ones."""
    def f(x):
        for i in range(length):
            x = ops.tanh(x) * 0.5 + x if i % 2 else ops.sin(x) + 0.1
        return ops.sum(x)
    return f


def _run(length):
    env = dict(os.environ, TGRAPH_CACHE_DIR="")  # empty: no cache, every sample compiles
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), str(length)], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or [f"exit {proc.returncode}"]
        raise RuntimeError(lines[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(systems, samples, tolerance, length=LENGTH):
    """Cells (as measure.prepare makes them) of the compile-time row: tgraph's, the others n/a."""
    cells = {s: {"status": "n/a"} for s in systems if s != "tgraph"}
    if "tgraph" not in systems:
        return cells
    expected = float(chain(np, length)(INPUT.astype(np.float64)))
    try:
        runs = [_run(length) for _ in range(samples)]
    except Exception as err:  # noqa: BLE001 - any failure becomes the cell's text
        cells["tgraph"] = {"status": "error", "error": short(err)}
        return cells
    seconds = [r["seconds"] for r in runs]
    error = max(abs(r["loss"] - expected) / abs(expected) for r in runs)
    cells["tgraph"] = {"status": "ok", "times_s": seconds, "reps": len(seconds), "median_s": statistics.median(seconds),
                       "check_error": error, "check_ok": error <= tolerance}
    return cells


def main(length):
    import tgraph as tg

    start = time.perf_counter()
    loss, _ = tg.compile_scalar(chain(tg, length), [tg.f32[16]]).value_and_grad(INPUT)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "loss": float(loss)}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
