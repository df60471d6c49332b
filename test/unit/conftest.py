import gc
import os
import sys
import tempfile

import pytest

# The op table and helpers are plain modules next to the tests.
sys.path.insert(0, os.path.dirname(__file__))

# Compiled-object tests use an on-disk cache of their own, empty at the start of each run.
os.environ["TGRAPH_CACHE_DIR"] = tempfile.mkdtemp(prefix="tgraph-test-cache-")


@pytest.fixture
def emulated_gpu(monkeypatch, tmp_path):
    """target='cuda' runs on the CPU emulator of the CUDA driver (cuda_emulator.py), which is told
    the LLVM IR behind each PTX made during the test (so the test has a disk cache of its own)."""
    from cuda_emulator import Emulator
    from tgraph.backends import cuda as backend_cuda, ptx

    emulator = Emulator()
    make_ptx = ptx.to_ptx

    def to_ptx(llvm_ir, sm=ptx.DEFAULT_SM):
        text = make_ptx(llvm_ir, sm)
        emulator.remember(llvm_ir, text)
        return text

    monkeypatch.setenv("TGRAPH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(ptx, "to_ptx", to_ptx)
    monkeypatch.setattr(backend_cuda._Driver, "_instance", backend_cuda._Driver(emulator))
    yield emulator
    # Device arrays the test left in reference cycles are freed now, by the emulator that holds
    # them, not later by the next test's (which would not know their addresses).
    gc.collect()
