"""Measurements that need a process of their own: running a benchmark script in a new Python
process (the compilation caches off) and reading the rise of this process's peak memory."""

import ctypes
import json
import os
import subprocess
import sys

TIMEOUT_S = 600


def run(script, *args):
    """`python script args...` in a new process with tgraph's and JAX's caches off: the JSON object
    on its last line of output; a failure raises with the last line it wrote to stderr."""
    env = dict(os.environ, TGRAPH_CACHE_DIR="", JAX_ENABLE_COMPILATION_CACHE="false")
    proc = subprocess.run([sys.executable, os.path.abspath(script), *map(str, args)], env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()] or [f"exit {proc.returncode}"]
        raise RuntimeError(lines[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def malloc_trim():
    """Give the memory malloc keeps after free back to the system (glibc), so that a call that
    reuses it shows in the peak as one that allocates anew."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rise(call):
    """Bytes the peak resident memory rises by during call()."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM to the current resident size
    before = _status_kib("VmRSS")
    call()
    return (_status_kib("VmHWM") - before) * 1024
