"""The CPU that code is generated for, as one explicit description (`CpuTarget`).

Passes take the target's facts as options (`threads`, `vector-width`); an option left at 0 means
"this host", and `CpuTarget.host()` is the one place that reads the host and the environment
(TGRAPH_NUM_THREADS, TGRAPH_VECTOR_WIDTH), so no pass reads either itself."""

import dataclasses
import functools
import os
import platform

VECTOR_WIDTHS = (4, 8, 16)  # f32 lanes of SSE/NEON, AVX2 and AVX-512


@functools.lru_cache(maxsize=None)
def native_vector_width():
    """f32 lanes of the widest vector unit LLVM will use on this host."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line for line in f if line.startswith("flags")), "").split()
    except OSError:
        return 4
    return 16 if "avx512f" in flags else 8 if "avx2" in flags else 4


def _requested_vector_width():
    """TGRAPH_VECTOR_WIDTH (4, 8 or 16) when set, so that the code a smaller or larger CPU would
    get can be built and tested on any host; else None."""
    value = os.environ.get("TGRAPH_VECTOR_WIDTH", "")
    if not value:
        return None
    if not value.isdigit() or int(value) not in VECTOR_WIDTHS:
        raise ValueError(f"TGRAPH_VECTOR_WIDTH={value!r}: use one of {', '.join(map(str, VECTOR_WIDTHS))}")
    return int(value)


def _requested_threads():
    value = os.environ.get("TGRAPH_NUM_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else (os.cpu_count() or 1)


@dataclasses.dataclass(frozen=True)
class CpuTarget:
    """What generated CPU code depends on: threads for parallel loops, the f32 lanes of the vectors
    to use (`vector_width`), those of the widest unit the CPU has (`native_vector_width`: below it,
    LLVM is kept to a smaller instruction set) and the architecture (`machine`, as platform.machine)."""

    threads: int
    vector_width: int
    native_vector_width: int
    machine: str

    @classmethod
    def host(cls, threads=0, vector_width=0):
        """This host, with `threads` and `vector_width` where they are given (non-zero), else from
        TGRAPH_NUM_THREADS / TGRAPH_VECTOR_WIDTH, else every core and the widest vectors. A
        ValueError for a TGRAPH_VECTOR_WIDTH that is not 4, 8 or 16."""
        native = native_vector_width()
        return cls(threads or _requested_threads(), vector_width or _requested_vector_width() or native, native,
                   platform.machine().lower())

    @property
    def x86(self):
        return self.machine in ("x86_64", "amd64")

    @property
    def limits_instruction_set(self):
        """Whether LLVM must be kept below the host's vector unit (tg-limit-vector-isa)."""
        return self.vector_width < self.native_vector_width


# /proc/cpuinfo's names of the instruction-set extensions LLVM may use in code for the host CPU:
# what an exported library needs of the CPU that loads it (tgraph.export, tgraph.runtime).
ISA_FLAGS = frozenset("""
    sse sse2 pni ssse3 sse4_1 sse4_2 popcnt cx16 movbe abm bmi1 bmi2 adx aes pclmulqdq sha_ni xsave
    avx avx2 fma f16c avx_vnni gfni vaes vpclmulqdq
    avx512f avx512dq avx512cd avx512bw avx512vl avx512ifma avx512vbmi avx512_vbmi2 avx512_vnni
    avx512_bitalg avx512_vpopcntdq avx512_bf16 avx512_fp16
    fp asimd fphp asimdhp asimddp sve sve2 bf16 i8mm
    """.split())


@functools.lru_cache(maxsize=None)
def host_cpu():
    """(the CPU's model name, its flags) from /proc/cpuinfo; ("", frozenset()) where it cannot be read."""
    model, flags = "", frozenset()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model") and not model:
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    flags = frozenset(value.split())
    except OSError:
        pass
    return model or platform.processor(), flags


def required_features(vector_width):
    """The host's instruction-set extensions that code built with `vector_width` f32 lanes may use:
    tg-limit-vector-isa turns AVX-512 off below 16 lanes and AVX below 8."""
    flags = host_cpu()[1] & ISA_FLAGS
    if vector_width < 16:
        flags = {f for f in flags if not f.startswith("avx512")}
    if vector_width < 8:
        flags = {f for f in flags if not f.startswith(("avx", "fma", "f16c", "vaes", "vpclmulqdq"))}
    return sorted(flags)
