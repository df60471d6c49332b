"""The machine's f32 FMA peak, measured: a loop of independent vector FMAs compiled by the same
MLIR bindings and LLVM JIT as tgraph's code, run on `threads` threads at once (ctypes releases
the GIL). The matmul rows report their fraction of it."""

import ctypes
import threading
import time

ACCUMULATORS = 10  # independent chains: more than FMA latency x FMA pipes (4 x 2) on current x86 cores
ITERATIONS = 4_000_000  # about 0.6 s per thread at 100 GFLOP/s

_SOURCE = """
func.func @fma_loop(%n: index, %out: memref<{width}xf32>) attributes {{llvm.emit_c_interface}} {{
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = arith.constant dense<0.999999> : vector<{width}xf32>
  %b = arith.constant dense<0.000001> : vector<{width}xf32>
  %pad = arith.constant 0.0 : f32
  %z = vector.transfer_read %out[%c0], %pad : memref<{width}xf32>, vector<{width}xf32>
  %r:{k} = scf.for %i = %c0 to %n step %c1 iter_args({carries}) -> ({types}) {{
    {body}
    scf.yield {next} : {types}
  }}
  %s0 = arith.addf %r#0, %r#1 : vector<{width}xf32>
  {sums}
  vector.transfer_write %s{last}, %out[%c0] : vector<{width}xf32>, memref<{width}xf32>
  return
}}
"""


def _module_text(width, k=ACCUMULATORS):
    carries = ", ".join(f"%x{j} = %z" for j in range(k))
    types = ", ".join([f"vector<{width}xf32>"] * k)
    body = "\n    ".join(f"%y{j} = vector.fma %x{j}, %a, %b : vector<{width}xf32>" for j in range(k))
    sums = "\n  ".join(f"%s{j - 1} = arith.addf %s{j - 2}, %r#{j} : vector<{width}xf32>" for j in range(2, k))
    return _SOURCE.format(width=width, k=k, carries=carries, types=types, body=body, sums=sums, last=k - 2,
                          next=", ".join(f"%y{j}" for j in range(k)))


def measure(threads):
    """GFLOP/s (2 per lane per FMA) of `threads` threads each running the FMA loop at tgraph's
    vector width for this CPU; the best of 5 runs."""
    import numpy as np
    from tgraph.backends.cpu import host_target
    from tgraph.support.mlir import execution_engine, ir, passmanager

    width = host_target(1).vector_width
    with ir.Context(), ir.Location.unknown():
        module = ir.Module.parse(_module_text(width))
        passmanager.PassManager.parse(
            "builtin.module(convert-scf-to-cf,convert-vector-to-llvm,finalize-memref-to-llvm,"
            "convert-to-llvm,reconcile-unrealized-casts)").run(module.operation)
        engine = execution_engine.ExecutionEngine(module, opt_level=2)
        # the packed C interface: one pointer to an array of pointers to the arguments
        entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(engine.raw_lookup("_mlir_ciface_fma_loop"))

    def run(out):
        # memref<Wxf32> descriptor: allocated, aligned, offset, size, stride
        descriptor = (ctypes.c_int64 * 5)(out.ctypes.data, out.ctypes.data, 0, width, 1)
        n = ctypes.c_int64(ITERATIONS)
        descriptor_pointer = ctypes.c_void_p(ctypes.addressof(descriptor))
        args = (ctypes.c_void_p * 2)(ctypes.addressof(n), ctypes.addressof(descriptor_pointer))
        entry(ctypes.addressof(args))

    # the chains start from the output's values, so that LLVM cannot fold the loop away
    outputs = [np.full(width, 0.5, np.float32) for _ in range(threads)]
    run(np.full(width, 0.5, np.float32))  # warm up: page in the code, raise the clock
    best = 0.0
    for _ in range(5):
        workers = [threading.Thread(target=run, args=(out,)) for out in outputs]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.perf_counter() - start
        best = max(best, threads * ITERATIONS * ACCUMULATORS * width * 2 / seconds / 1e9)
    if not all(np.isfinite(out).all() for out in outputs):
        raise RuntimeError("the FMA loop's results are not finite")
    return round(best, 1)


if __name__ == "__main__":
    import sys
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    print(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 1))
