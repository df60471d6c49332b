"""Tracing, compiling and calling from several threads at once. Each scenario runs in a fresh
process, where the first MLIR context of every thread is created (the race this guards against
crashed the process), so a crash fails the test instead of ending the test run."""

import os
import subprocess
import sys

import pytest

PROGRAM = """
import sys, threading
import numpy as np, tgraph as tg

shared = tg.compile_scalar(lambda x: tg.sum(x * x), [tg.f32[16]])
errors = []

def work(k):
    try:
        for r in range(4):
            scale = float(k + r + 1)
            f = tg.compile_scalar(lambda x: tg.sum(tg.tanh(x * scale)), [tg.f32[8 + k]])
            x = np.linspace(-1, 1, 8 + k).astype(np.float32)
            value, (grad,) = f.value_and_grad(x)
            np.testing.assert_allclose(value, np.tanh(x * scale).sum(), rtol=1e-5, atol=1e-5)
            np.testing.assert_allclose(grad, scale * (1 - np.tanh(x * scale) ** 2), rtol=1e-4, atol=1e-5)
            y = np.full(16, k, np.float32)
            value, (grad,) = shared.value_and_grad(y)
            assert value == 16 * k * k and (grad == 2 * k).all()
    except Exception as err:  # noqa: BLE001 - reported by the parent
        errors.append(f"thread {k}: {err!r}")

threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\\n".join(errors) or "ok")
sys.exit(1 if errors else 0)
"""


@pytest.mark.parametrize("cache", ["no-cache", "cache"])
def test_eight_threads_trace_compile_and_call_at_once(cache, tmp_path):
    env = dict(os.environ, TGRAPH_CACHE_DIR=str(tmp_path) if cache == "cache" else "")
    for _ in range(2):
        done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", PROGRAM], env=env,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and done.stdout.strip() == "ok", (done.returncode, done.stdout, done.stderr[-3000:])
