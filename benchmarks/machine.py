"""What the numbers were measured on: CPU, cores, memory, library versions, tgraph's commit."""

import datetime
import os
import platform
import subprocess
import time
from importlib import metadata

import numpy as np

PACKAGES = ("tgraph", "torch-mlir", "numpy", "jax", "jaxlib", "torch")
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")


def _cpuinfo():
    try:
        with open("/proc/cpuinfo") as f:
            lines = [line.split(":", 1) for line in f if ":" in line]
    except OSError:
        return platform.processor() or platform.machine(), []
    fields = {}
    for key, value in lines:
        fields.setdefault(key.strip(), value.strip())
    flags = fields.get("flags", "").split()
    return fields.get("model name", platform.machine()), [f for f in CPU_FLAGS if f in flags]


def _memory_gib():
    try:
        with open("/proc/meminfo") as f:
            return round(int(f.readline().split()[1]) / 2 ** 20, 1)
    except (OSError, ValueError, IndexError):
        return None


def _version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _commit():
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}{'-dirty' if dirty else ''}" if head else None


def _descendants_cpu():
    """CPU seconds of this process's live descendants (torch.compile's compile workers, ...),
    including what the children they have waited for used."""
    parent, cpu = {}, {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after the command name: state, ppid, ...
        except (OSError, IndexError):
            continue
        parent[int(entry)] = int(fields[1])
        cpu[int(entry)] = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    mine, found = {os.getpid()}, True
    while found:
        found = {pid for pid, ppid in parent.items() if ppid in mine and pid not in mine}
        mine |= found
    return sum(cpu[pid] for pid in mine if pid != os.getpid()) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot():
    """(wall time, CPU seconds of every process, CPU seconds of this process and its descendants)."""
    try:
        with open("/proc/stat") as f:
            user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in f.readline().split()[1:8])
        busy = (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")
        own = _descendants_cpu()
    except (OSError, ValueError):
        busy = own = float("nan")
    return time.monotonic(), busy, own + sum(os.times()[:4])


def other_load(start, end):
    """How many cores other processes kept busy, on average, between two cpu_snapshot()s."""
    return round(((end[1] - start[1]) - (end[2] - start[2])) / max(end[0] - start[0], 1e-9), 2)


def copy_bandwidth():
    """GB/s (bytes read + written) of numpy copying a 64 MiB f32 array, one thread, median of 10:
    the yardstick for the memory-bound workloads' GB/s."""
    source = np.ones(16 * 2 ** 20, np.float32)
    target = np.empty_like(source)
    seconds = []
    for _ in range(10):
        start = time.perf_counter()
        np.copyto(target, source)
        seconds.append(time.perf_counter() - start)
    return round(2 * source.nbytes / float(np.median(seconds)) / 1e9, 1)


def fma_peak(threads):
    """GFLOP/s of f32 FMAs on `threads` threads (fma_peak.py), or None where tgraph cannot compile."""
    try:
        import fma_peak as probe
        return probe.measure(threads)
    except Exception:  # noqa: BLE001 - the peak is a yardstick; the run goes on without it
        return None


def gpu():
    """The GPU tgraph's CUDA runtime finds (its name), or None."""
    try:
        from tgraph.backends.cuda import driver
        return driver().name
    except Exception:  # noqa: BLE001 - no driver, no GPU, or no cuda-python: no GPU rows
        return None


def info(threads):
    cpu, flags = _cpuinfo()
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return {
        "cpu": cpu, "cpu_flags": flags, "cores": os.cpu_count(), "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "numpy_blas": f"{blas.get('name')} {blas.get('version')}", "copy_gb_s": copy_bandwidth(),
        "fma_peak_gflops": fma_peak(threads),
        "versions": {p: v for p in PACKAGES if (v := _version(p))},
        "tgraph_commit": _commit(),
        "gpu": gpu(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def describe(machine, threads):
    """One paragraph for the table's header."""
    versions = ", ".join(f"{p} {v}" for p, v in machine["versions"].items())
    commit = f" (commit {machine['tgraph_commit']})" if machine.get("tgraph_commit") else ""
    gpu = f"; GPU: {machine['gpu']}" if machine.get("gpu") else ""
    peak = (f", f32 FMA peak {machine['fma_peak_gflops']:g} GFLOP/s on {threads} threads (measured)"
            if machine.get("fma_peak_gflops") else "")
    return (f"{machine['cpu']} ({', '.join(machine['cpu_flags'])}), {machine['cores']} cores, {threads} threads "
            f"for every system, {machine['memory_gib']} GiB (numpy copies at {machine['copy_gb_s']:g} GB/s, 1 thread)"
            f"{peak}{gpu}, "
            f"{machine['os']}, Python {machine['python']}; "
            f"{versions}{commit}; numpy's BLAS: {machine['numpy_blas']}; {machine['date'][:10]}")
