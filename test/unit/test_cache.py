"""The on-disk cache: a second process loads the compiled entry point instead of compiling it;
corrupt entries are replaced; the cache can be turned off."""

import os
import subprocess
import sys

import pytest

from tgraph import cache

pytestmark = pytest.mark.skipif(cache.linker() is None, reason="no C compiler driver to link cached libraries")

PROGRAM = """
import time, numpy as np, tgraph as tg
start = time.perf_counter()
step = tg.compile_scalar(lambda x, w: tg.sum(tg.tanh(x @ w)), [tg.f32[8, 4], tg.f32[4]])
value, grads = step.value_and_grad(np.ones((8, 4), np.float32), np.full(4, 0.5, np.float32))
print(round(value, 4), step._entries["value_and_grad"].loaded_from is not None, time.perf_counter() - start)
"""


def run(cache_dir):
    env = dict(os.environ, TGRAPH_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    value, loaded, seconds = done.stdout.split()
    return float(value), loaded == "True", float(seconds)


def test_a_second_process_loads_from_the_cache(tmp_path):
    first = run(tmp_path)
    assert not first[1] and any(p.suffix == ".so" for p in tmp_path.iterdir())
    second = run(tmp_path)
    assert second[1] and second[0] == first[0] == pytest.approx(8 * 0.9640, abs=1e-3)


def test_a_corrupt_entry_is_replaced(tmp_path):
    run(tmp_path)
    for library in tmp_path.glob("*.so"):
        library.write_bytes(b"not a shared library")
    value, loaded, _ = run(tmp_path)
    assert not loaded and value == pytest.approx(8 * 0.9640, abs=1e-3)
    assert run(tmp_path)[1]  # and the next process finds the rewritten entry


def test_an_empty_cache_dir_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TGRAPH_CACHE_DIR", "")
    assert cache.cache_dir() is None
    assert cache.load("0" * 40) is None
