"""Device code: the gpu.modules of a lowered module -> LLVM IR -> PTX, and PTX -> cubin.

The MLIR bindings have no NVPTX target, so their LLVM IR goes to llvmlite's NVPTX backend.
Math functions are calls to libdevice (`__nv_expf`, ...): libdevice's bitcode is linked in,
everything but the kernels is internalized, and what is unused is dropped. `ptxas` (from a
CUDA toolkit or the nvidia-cuda-nvcc wheel) assembles PTX for a given sm_XX, which is how
the tests check device code on machines without a GPU."""

import functools
import importlib.util
import os
import re
import shutil
import struct
import subprocess
import tempfile

import numpy as np

from ..support.dtypes import NUMPY_DTYPES
from ..support.errors import TGraphError
from ..support.mlir import _load, ir

TRIPLE = "nvptx64-nvidia-cuda"
DATA_LAYOUT = "e-p6:32:32-i64:64-i128:128-v16:16-v32:32-n16:32:64"
DEFAULT_SM = 90


def _toolkit_roots():
    """CUDA toolkit folders, most specific first: $CUDA_HOME / $CUDA_PATH, the pip wheel
    nvidia-cuda-nvcc-cu12, the toolkits holding the nvcc and ptxas on PATH, then the CUDA
    installer's default location."""
    roots = [os.environ.get(v) for v in ("CUDA_HOME", "CUDA_PATH")]
    spec = importlib.util.find_spec("nvidia")
    if spec and spec.submodule_search_locations:
        roots += [os.path.join(p, "cuda_nvcc") for p in spec.submodule_search_locations]
    for tool in ("nvcc", "ptxas"):
        found = shutil.which(tool)
        if found:
            roots.append(os.path.dirname(os.path.dirname(os.path.realpath(found))))
    roots.append(os.path.join(os.sep, "usr", "local", "cuda"))
    return [r for r in dict.fromkeys(roots) if r and os.path.isdir(r)]


@functools.lru_cache(maxsize=None)
def libdevice_path():
    """libdevice.10.bc ($TGRAPH_LIBDEVICE, else from a toolkit root), or None."""
    explicit = os.environ.get("TGRAPH_LIBDEVICE")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for root in _toolkit_roots():
        path = os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc")
        if os.path.exists(path):
            return path
    return None


@functools.lru_cache(maxsize=None)
def ptxas_path():
    """A ptxas binary, or None."""
    for root in _toolkit_roots():
        path = os.path.join(root, "bin", "ptxas")
        if os.access(path, os.X_OK):
            return path
    return shutil.which("ptxas")


def device_module(module):
    """One LLVM-dialect module with the bodies of every gpu.module in `module` (kernels, shared
    memory globals, and each external function once)."""
    device = ir.Module.create()
    device.operation.attributes["llvm.target_triple"] = ir.StringAttr.get(TRIPLE)
    device.operation.attributes["llvm.data_layout"] = ir.StringAttr.get(DATA_LAYOUT)
    seen = set()
    for op in module.body.operations:
        if op.operation.name != "gpu.module":
            continue
        for inner in op.regions[0].blocks[0].operations:
            name = inner.operation.attributes["sym_name"] if "sym_name" in inner.operation.attributes else None
            key = str(name) if name is not None else id(inner)
            if key in seen:
                continue
            seen.add(key)
            inner.operation.clone(ir.InsertionPoint(device.body))
    return device


# The bindings' LLVM is newer than llvmlite's: it writes float constants as `f0x<bits>`, and the
# special values as `inf`, `+inf`, `-inf`, `nan`, `+qnan`, `-qnan`, `+snan(0x...)`, which llvmlite's
# parser rejects. They are rewritten in the older hex forms (a float as the bits of the equal
# double, half as 0xH, bfloat as 0xR); a NaN keeps its sign and becomes the quiet NaN.
_TOKEN_RE = re.compile(r"(?<=[\s,(<\[])(f0x[0-9A-Fa-f]+|[-+]?(?:inf|qnan|snan|nan)(?:\(0x[0-9A-Fa-f]+\))?)(?=[\s,)>\]]|$)")
_TYPE_RE = re.compile(r"\b(half|bfloat|float|double)\b")
_SPECIAL_BITS = {  # (positive infinity, quiet NaN) of each type, in its old hex form's width
    "half": (0x7C00, 0x7E00), "bfloat": (0x7F80, 0x7FC0),
    "float": (0x7FF0000000000000, 0x7FF8000000000000), "double": (0x7FF0000000000000, 0x7FF8000000000000)}


def _old_constant(token, float_type):
    if token.startswith("f0x"):
        bits = int(token[3:], 16)
        digits = len(token) - 3
        if digits == 16:
            return f"0x{bits:016X}"
        if digits == 8:
            value = struct.unpack("<f", struct.pack("<I", bits))[0]
            return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]
        return f"0x{'R' if float_type == 'bfloat' else 'H'}{bits:04X}"
    negative = token.startswith("-")
    infinity, nan = _SPECIAL_BITS[float_type]
    bits = infinity if token.lstrip("+-").startswith("inf") else nan
    if float_type in ("half", "bfloat"):
        return f"0x{'H' if float_type == 'half' else 'R'}{bits | (0x8000 if negative else 0):04X}"
    return f"0x{bits | (1 << 63 if negative else 0):016X}"


# It also writes a float, half or bfloat constant in decimal where the decimal reads back as the same
# value of that type (`fmul float %x, 1.000000e-01`); llvmlite's parser reads decimals as doubles and
# rejects one that is not exactly a float. Those become the hex of their value, as above.
_DECIMAL_RE = re.compile(r"(?<=[\s,(<\[])([-+]?\d+\.\d+e[-+]?\d+)(?=[\s,)>\]]|$)")


def _type_before(line, position):
    """The float type named last before `position` (a constant's type in `fmul float %x, 0.1`)."""
    types = _TYPE_RE.findall(line, 0, position)
    return types[-1] if types else "double"


def _old_decimal(token, float_type):
    if float_type == "double":
        return token
    if float_type == "float":
        value = float(np.float32(token))
        return "0x%016X" % struct.unpack("<Q", struct.pack("<d", value))[0]
    if float_type == "half":
        return f"0xH{int(np.array(token, np.float16).view(np.uint16)):04X}"
    return f"0xR{int(np.array(float(token), NUMPY_DTYPES['bf16']).view(np.uint16)):04X}"


def _older_syntax(text):
    lines = []
    for line in text.splitlines():
        found = _TYPE_RE.search(line)
        float_type = found[1] if found else "double"
        if "f0x" in line or "inf" in line or "nan" in line:
            line = _TOKEN_RE.sub(lambda m: _old_constant(m[1], float_type), line)
        if found and "e" in line:
            line = _DECIMAL_RE.sub(lambda m: _old_decimal(m[1], _type_before(line, m.start())), line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def device_llvm_ir(module):
    """LLVM IR text of the kernels of a module lowered by tg-gpu-pipeline."""
    with module.context, ir.Location.unknown():
        device = device_module(module)
        return _older_syntax(str(_load("dialects.llvm").translate_module_to_llvmir(device.operation)))


@functools.lru_cache(maxsize=None)
def _llvm():
    try:
        import llvmlite.binding as llvm
    except ImportError:
        raise TGraphError("target 'cuda' needs llvmlite to generate PTX: pip install 'tgraph[cuda]' "
                          "(or pip install llvmlite)") from None
    for init in ("initialize_all_targets", "initialize_all_asmprinters"):
        getattr(llvm, init)()
    return llvm


def kernel_names(llvm_ir):
    return [line.split("@", 1)[1].split("(", 1)[0] for line in llvm_ir.splitlines()
            if line.startswith("define ptx_kernel ")]


def to_ptx(llvm_ir, sm=DEFAULT_SM):
    """PTX for sm_<sm> from the kernels' LLVM IR, libdevice linked in when a math function needs it."""
    llvm = _llvm()
    module = llvm.parse_assembly(llvm_ir)
    if "@__nv_" in llvm_ir:
        path = libdevice_path()
        if path is None:
            raise TGraphError("the kernels call CUDA math functions and libdevice was not found: install "
                              "'tgraph[cuda]' (the nvidia-cuda-nvcc-cu12 wheel has it), set CUDA_HOME to a "
                              "CUDA toolkit, or TGRAPH_LIBDEVICE to libdevice.10.bc")
        with open(path, "rb") as f:
            libdevice = llvm.parse_bitcode(f.read())
        libdevice.triple, libdevice.data_layout = TRIPLE, DATA_LAYOUT
        module.link_in(libdevice)
    kernels = set(kernel_names(llvm_ir))
    for fn in module.functions:  # libdevice's functions become internal, and unused ones vanish
        if not fn.is_declaration and fn.name not in kernels:
            fn.linkage = llvm.Linkage.internal
    target = llvm.Target.from_triple(TRIPLE).create_target_machine(cpu=f"sm_{sm}", features="+ptx80", opt=3)
    builder = llvm.create_pass_builder(target, llvm.create_pipeline_tuning_options(speed_level=3))
    builder.getModulePassManager().run(module, builder)  # O3, and unused internal functions are dropped
    module.verify()
    return target.emit_assembly(module)


def assemble(ptx, sm=DEFAULT_SM):
    """ptxas -arch=sm_<sm>: the cubin bytes; TGraphError with ptxas's message if it rejects the PTX."""
    ptxas = ptxas_path()
    if ptxas is None:
        raise TGraphError("ptxas was not found: install 'tgraph[cuda]' or a CUDA toolkit")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "kernels.ptx"), os.path.join(tmp, "kernels.cubin")
        with open(src, "w") as f:
            f.write(ptx)
        done = subprocess.run([ptxas, f"-arch=sm_{sm}", src, "-o", out], capture_output=True, text=True)
        if done.returncode:
            raise TGraphError(f"ptxas rejected the PTX for sm_{sm}:\n{done.stderr.strip()}")
        with open(out, "rb") as f:
            return f.read()
