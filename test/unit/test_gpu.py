"""The GPU target.

Without a GPU (these run in `make test`):
- the kernels of tg-gpu-kernels run on the CPU (their block and thread loops one after another,
  which keeps the meaning of the barriers between them) and agree with the interpreter, for every
  op-table case and for shapes that pick the contraction and tree-reduction kernels;
- every op-table case and every model's entry points compile to PTX that `ptxas -arch=sm_90`
  accepts, and each launch passes exactly the parameters its PTX kernel declares;
- a call without an NVIDIA driver raises the documented TGraphError; DLPack export and import.
With a GPU (marked `gpu`, skipped without one): every op and entry point against the interpreter,
and DLPack round trips with PyTorch."""

import ctypes
import functools
import json
import os
import pathlib
import pickle
import re

import numpy as np
import pytest

import tgraph as tg
from tgraph.backends import cuda as backend_cuda, dlpack, ptx
from tgraph.backends.common import COLLECTIVES
from tgraph.backends.cpu import CpuExecutable
from tgraph.backends.cuda import CudaExecutable, DeviceArray, NO_DRIVER
from models import MODELS
from op_table import CASES as ALL_CASES
from test_lowering import check
from cuda_emulator import Shadowed

CASES = [c for c in ALL_CASES if f"tg.{c.op}" not in COLLECTIVES]  # collectives run on the CPU only

kernels_on_cpu = functools.partial(CpuExecutable, pipeline="tg-gpu-kernels-on-cpu")
needs_ptxas = pytest.mark.skipif(ptx.ptxas_path() is None, reason="ptxas not found (install tgraph[cuda] or a CUDA toolkit)")


def _has_gpu():
    try:
        from tgraph.backends.cuda import driver
        driver()
        return True
    except Exception:
        return False


needs_gpu = pytest.mark.skipif(not _has_gpu(), reason="no NVIDIA GPU and driver")


def _kinds(graph):
    from tgraph import dialect
    from tgraph.support.mlir import ir
    from tgraph.passes import build_pass_manager
    from tgraph.passes.gpu.tg_gpu_pipeline import kernel_pipeline

    with dialect.context():
        module = ir.Module.parse(graph.ir())
        build_pass_manager(", ".join(kernel_pipeline())).run(module.operation)
        return re.findall(r'tg.kernel_kind = "([a-z ]+)"', str(module))


# Shapes large enough for each kernel kind, with sizes that do not divide the tiles.
KERNEL_CASES = [
    ("matmul", lambda a, b: a @ b, [tg.f32[70, 40], tg.f32[40, 130]], "contraction"),
    ("matmul_transposed", lambda a, b: a @ b.T, [tg.f32[70, 40], tg.f32[130, 40]], "contraction"),
    ("batch_matmul", lambda a, b: a @ b, [tg.f32[3, 65, 33], tg.f32[3, 33, 64]], "contraction"),
    ("matmul_f64_bias_relu", lambda a, b, c: tg.relu(a @ b + c), [tg.f64[64, 48], tg.f64[48, 80], tg.f64[80]],
     "contraction"),
    ("sum_rows", lambda a: tg.sum(a, axis=1), [tg.f32[37, 300]], "tree reduction"),
    ("sum_columns", lambda a: tg.sum(a, axis=0), [tg.f32[300, 37]], "tree reduction"),
    ("sum_all", lambda a: tg.sum(a), [tg.f32[70, 70]], "tree reduction"),
    ("max_rows", lambda a: tg.max(a, axis=1), [tg.f32[5, 1000]], "tree reduction"),
    ("integer_sum", lambda a: tg.sum(a, axis=1), [tg.i32[4, 500]], "tree reduction"),
    ("softmax", lambda a: tg.softmax(a, axis=-1), [tg.f32[33, 300]], "tree reduction"),
    ("layer_norm", lambda a, g, b: tg.layer_norm(a, g, b), [tg.f32[33, 257], tg.f32[257], tg.f32[257]],
     "tree reduction"),
    ("short_sums", lambda a: tg.sum(a, axis=1), [tg.f32[700, 9]], "serial reduction"),
    ("matmul_bf16_summed_in_f32", lambda a, b: tg.matmul(a, b, preferred_element_type=tg.f32),
     [tg.bf16[70, 40], tg.bf16[40, 130]], "contraction"),
]


def _on_the_device(graph):
    exe = CudaExecutable(graph)
    return lambda *xs: [x.numpy() for x in exe(*xs)]


@pytest.fixture(params=["emulated", pytest.param("gpu", marks=[pytest.mark.gpu, needs_gpu])])
def device(request):
    """Where `target='cuda'` runs: the CPU emulator of the driver, or the GPU."""
    if request.param == "emulated":
        request.getfixturevalue("emulated_gpu")
    return request.param


def _inputs(specs, rng):
    return [rng.integers(-5, 5, s.shape).astype(s.np_dtype) if s.dtype.startswith("i")
            else rng.standard_normal(s.shape).astype(s.np_dtype) for s in specs]


# ----------------------------------------------------------------------------- no GPU needed
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_op_table_case_through_the_gpu_kernels_on_cpu(case):
    graph = tg.trace(case.fn, case.specs)
    check(graph, *case.make_inputs(np.random.default_rng(0)), exact=case.op in ("random_uniform", "bernoulli"),
          compile=kernels_on_cpu)


@pytest.mark.parametrize("name, fn, specs, kind", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_kernel_kinds_on_cpu(name, fn, specs, kind):
    graph = tg.trace(fn, specs)
    assert kind in _kinds(graph)
    check(graph, *_inputs(specs, np.random.default_rng(1)), compile=kernels_on_cpu)


def _assert_launches_match_ptx(exe):
    entries = dict(re.findall(r"\.entry (\w+)\(([^)]*)\)", exe.ptx, re.S))
    for launch in exe.plan.launches:
        assert entries[launch.kernel].count(".param") == len(launch.params), launch.kernel
        assert all(0 < n for n in launch.grid + launch.block)


@needs_ptxas
@pytest.mark.parametrize("case", CASES[::3], ids=lambda c: c.id)
def test_op_table_case_assembles_for_sm90(case):
    exe = CudaExecutable(tg.trace(case.fn, case.specs))
    _assert_launches_match_ptx(exe)
    if exe.ptx:
        assert ptx.assemble(exe.ptx, 90)


@needs_ptxas
def test_every_op_assembles_for_sm90_in_one_module():
    """The op-table cases not assembled one by one, as one PTX module per dtype family."""
    done = 0
    for case in [c for i, c in enumerate(CASES) if i % 3]:
        exe = CudaExecutable(tg.trace(case.fn, case.specs))
        _assert_launches_match_ptx(exe)
        if exe.ptx:
            ptx.assemble(exe.ptx, 90)
            done += 1
    assert done > 150


@needs_ptxas
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_entry_points_assemble_for_sm90(model):
    compiled = tg.compile_scalar(model.fn, model.specs, target="cuda")
    for entry in compiled.ENTRY_POINTS:
        exe = compiled._executable(entry)
        _assert_launches_match_ptx(exe)
        assert ptx.assemble(exe.ptx, 90)


@needs_ptxas
@pytest.mark.parametrize("name, fn, specs, kind", KERNEL_CASES[:5], ids=[c[0] for c in KERNEL_CASES[:5]])
def test_workgroup_memory_kernels_assemble(name, fn, specs, kind):
    exe = CudaExecutable(tg.trace(fn, specs))
    assert ".shared" in exe.ptx and "bar.sync" in exe.ptx
    ptx.assemble(exe.ptx, 90)
    ptx.assemble(ptx.to_ptx(exe.llvm_ir, 80), 80)  # the same kernels for the A100


def test_stages_are_inspectable_without_a_gpu():
    c = tg.compile_scalar(MODELS[0].fn, MODELS[0].specs, target="cuda")
    assert "gpu.launch_func" in c.ir("gpu") and "gpu.func" in c.ir("gpu")
    assert "nvvm." in c.ir("nvvm")
    assert "define ptx_kernel" in c.ir("llvm", entry="grad")
    assert ".target sm_90" in c.ir("ptx", entry="value_and_grad")
    assert "linalg.generic" in c.ir("linalg") and "memref" in c.ir("bufferized")
    with pytest.raises(tg.TGraphError, match="unknown stage 'vector' for target 'cuda'"):
        c.ir("vector")


def test_stages_of_an_entry_compiled_before_they_were_asked_for():
    c = tg.compile_scalar(MODELS[0].fn, MODELS[0].specs, target="cuda")
    assert ".entry tg_kernel_0" in c.ir("ptx", entry="grad")  # compiled in one pass-manager run, no log
    assert "gpu.launch_func" in c.ir("gpu", entry="grad")  # compiled again pass by pass for the log


@pytest.mark.skipif(_has_gpu(), reason="a GPU is present")
def test_a_call_without_a_driver_raises_a_clear_error():
    f = tg.compile_out(lambda x: tg.exp(x) * 2.0, [tg.f32[4]], target="cuda")
    assert f.ir("ptx")  # compiling needs no GPU
    with pytest.raises(tg.TGraphError, match=re.escape(NO_DRIVER)):
        f.forward(np.ones(4, np.float32))


def test_dlpack_export_and_import_on_the_host():
    data = np.arange(12, dtype=np.float32).reshape(3, 4)

    class HostBuffer:  # a DeviceArray's DLPack export, pointed at host memory
        def __dlpack__(self, stream=None, **kwargs):
            return dlpack.to_capsule(data.ctypes.data, data.shape, data.dtype, (dlpack.CPU, 0), data)

        def __dlpack_device__(self):
            return (dlpack.CPU, 0)

    np.testing.assert_array_equal(np.from_dlpack(HostBuffer()), data)
    imported = dlpack.from_capsule(np.asarray(data.T).__dlpack__())
    assert imported.shape == (4, 3) and imported.dtype == np.float32 and not imported.contiguous
    assert imported.pointer == data.ctypes.data
    assert dlpack.from_capsule(data.__dlpack__()).contiguous


def test_device_array_interfaces_need_no_gpu():
    a = DeviceArray(0x1000, (2, 3), np.float32, owned=False)
    assert a.__cuda_array_interface__["shape"] == (2, 3) and a.__cuda_array_interface__["typestr"] == "<f4"
    assert a.__dlpack_device__() == (dlpack.CUDA, 0) and a.nbytes == 24


# ----------------------------------------------------------------------------- running
# Each runs twice: on the CPU emulator of the driver (always), and on a GPU (marked `gpu`).
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_op_table_case_runs(case, device):
    graph = tg.trace(case.fn, case.specs)
    check(graph, *case.make_inputs(np.random.default_rng(0)), exact=case.op in ("random_uniform", "bernoulli"),
          compile=_on_the_device)


@pytest.mark.parametrize("name, fn, specs, kind", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_kernel_kind_runs(name, fn, specs, kind, device):
    check(tg.trace(fn, specs), *_inputs(specs, np.random.default_rng(1)), compile=_on_the_device)


def _close(got, want):
    np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=1e-3, atol=1e-5)


def test_a_long_sum_is_blocked(device):
    """Blocked in the lowering, a long f32 sum becomes tree reductions of short blocks; each
    thread used to fold 1/256 of all the terms in order (here: 1e-5 relative error). Sized for
    the emulator, which runs every thread of a block as an OS thread."""
    x = np.full(300_000, 0.1, np.float32)
    got = tg.compile_out(lambda x: tg.sum(x), [tg.f32[x.shape]], target="cuda").forward(x).numpy()
    assert abs(got - x.astype(np.float64).sum()) / x.astype(np.float64).sum() < 1e-6


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_entry_points_run(model, device):
    rng = np.random.default_rng(0)
    xs = [np.asarray(a, s.np_dtype) for a, s in zip(model.make_inputs(rng), model.specs)]
    cpu = tg.compile_scalar(model.fn, model.specs)
    gpu = tg.compile_scalar(model.fn, model.specs, target="cuda")
    dxs = [rng.standard_normal(model.specs[i].shape).astype(model.specs[i].np_dtype) for i in cpu.wrt]
    _close(gpu.forward(*xs), cpu.forward(*xs))
    _close(gpu.jvp(xs, dxs), cpu.jvp(xs, dxs))
    value, grads = gpu.value_and_grad(*xs)
    want_value, want_grads = cpu.value_and_grad(*xs)
    _close(value, want_value)
    for got, want in [*zip(grads, want_grads), *zip(gpu.backward(*xs), cpu.backward(*xs)),
                      *zip(gpu.backward_with_seed(xs, np.float32(-2)), cpu.backward_with_seed(xs, np.float32(-2)))]:
        assert (got is None) == (want is None)
        if want is not None:
            assert isinstance(got, DeviceArray)
            _close(got, want)


def test_device_results_feed_the_next_call_in_place(device):
    """Outputs stay on the device and go back in as inputs without a copy; vjp_with_seed and jvp
    of a function with several outputs."""
    f = tg.compile_out(lambda x, w: (tg.tanh(x @ w), tg.sum(x, axis=1)), [tg.f32[8, 16], tg.f32[16, 16]],
                       target="cuda")
    rng = np.random.default_rng(2)
    x, w = (rng.standard_normal(s).astype(np.float32) for s in ((8, 16), (16, 16)))
    y, rows = f.forward(x, w)
    assert isinstance(y, DeviceArray) and y.shape == (8, 16)
    again, _ = f.forward(y, w)  # a DeviceArray as input: its pointer, not a copy
    _close(again, np.tanh(np.tanh(x @ w) @ w))
    _close(f.forward(np.asarray(y), w)[0], again)  # the same through the host
    _close(rows, x.sum(axis=1))
    seed = (np.ones((8, 16), np.float32), np.ones(8, np.float32))
    gx, gw = f.vjp_with_seed((x, w), seed)
    want = tg.compile_out(f.graph).vjp_with_seed((x, w), seed)
    _close(gx, want[0])
    _close(gw, want[1])
    (ty, trows), (dty, dtrows) = f.jvp((x, w), (x, w))
    (wy, wrows), (dwy, dwrows) = tg.compile_out(f.graph).jvp((x, w), (x, w))
    for got, want in ((ty, wy), (trows, wrows), (dty, dwy), (dtrows, dwrows)):
        _close(got, want)


def test_to_device_copies_to_the_gpu(device):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    on_gpu = tg.to_device(x.T)  # copied in C order
    assert isinstance(on_gpu, DeviceArray) and on_gpu.shape == (4, 3)
    np.testing.assert_array_equal(on_gpu.numpy(), x.T)
    f = tg.compile_out(lambda a: a * 2.0, [tg.f32[4, 3]], target="cuda")
    np.testing.assert_array_equal(f.forward(on_gpu).numpy(), x.T * 2)


def test_a_device_input_of_the_wrong_shape_is_refused(device):
    f = tg.compile_out(lambda x: x * 2.0, [tg.f32[4]], target="cuda")
    y = f.forward(np.ones(4, np.float32))
    g = tg.compile_out(lambda x: x * 2.0, [tg.f32[2, 2]], target="cuda")
    with pytest.raises(tg.TGraphError, match=r"input 0 \('x'\) is on the GPU as float32\[4\]"):
        g.forward(y)


@pytest.mark.parametrize("element_type, bits", [("f16", 0x3E00), ("bf16", 0x3FC0)])
def test_a_half_precision_scalar_parameter_is_passed_as_its_bits(element_type, bits):
    from tgraph import dialect
    from tgraph.support.mlir import ir

    with dialect.context():
        assert backend_cuda._scalar_param(ir.Type.parse(element_type), 1.5) == (ctypes.c_uint16, bits)


def test_a_host_input_of_the_wrong_shape_is_named_once(emulated_gpu):
    f = tg.compile_out(lambda x, w: x * w, [tg.f32[4], tg.f32[4]], target="cuda")
    with pytest.raises(tg.TGraphError) as error:
        f.forward(np.ones(4, np.float32), np.ones(3, np.float32))
    assert str(error.value).endswith(": input 1 ('w') must have shape (4,) (tensor<4xf32>), got shape (3,)")


def test_the_disk_cache_keeps_gpu_entry_points(emulated_gpu, monkeypatch):
    cache = pathlib.Path(os.environ["TGRAPH_CACHE_DIR"])  # the fixture's own
    model = MODELS[0]
    xs = model.make_inputs(np.random.default_rng(0))
    first = tg.compile_scalar(model.fn, model.specs, target="cuda")
    value, grads = first.value_and_grad(*xs)
    (entry,) = cache.glob("*.cuda.json")
    assert json.loads(entry.read_text()) == first._entries["value_and_grad"].to_json()  # data, no pickle
    assert entry.stat().st_mode & 0o777 == 0o600

    def compile_again(*args):
        raise AssertionError("compiled again: the cached PTX and plan were not used")

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the cache unpickled something")

    run_pipeline = backend_cuda.run_pipeline
    monkeypatch.setattr(backend_cuda, "run_pipeline", compile_again)
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_unpickling)
    again = tg.compile_scalar(model.fn, model.specs, target="cuda")
    value2, grads2 = again.value_and_grad(*xs)  # a fresh object: loads the PTX from the cache entry
    assert value2 == value
    for g, g2 in zip(grads, grads2):
        assert (g is None) == (g2 is None)
        if g is not None:
            np.testing.assert_array_equal(g.numpy(), g2.numpy())
    monkeypatch.setattr(backend_cuda, "run_pipeline", run_pipeline)
    described = json.loads(entry.read_text())
    for damage in (b"damaged", json.dumps({**described, "sm": "90"}).encode(),
                   json.dumps({k: v for k, v in described.items() if k != "launches"}).encode()):
        entry.write_bytes(damage)
        assert tg.compile_scalar(model.fn, model.specs, target="cuda").value_and_grad(*xs)[0] == value  # recompiled
        assert json.loads(entry.read_text()) == described  # and rewritten


def test_a_gpu_entry_point_described_as_data_runs_the_same(emulated_gpu):
    constant = np.arange(3, dtype=np.float32)  # a constant buffer in the plan
    graph = tg.trace(lambda x, w: tg.sum(tg.tanh(x @ w + constant) * 0.5, axis=0), [tg.f32[8, 4], tg.f32[4, 3]])
    exe = CudaExecutable(graph)
    again = CudaExecutable.from_json(json.loads(json.dumps(exe.to_json())))
    assert again.to_json() == exe.to_json() and repr(again) == repr(exe)
    x, w = np.linspace(-1, 1, 32, dtype=np.float32).reshape(8, 4), np.full((4, 3), 0.25, np.float32)
    np.testing.assert_array_equal(again(x, w)[0].numpy(), exe(x, w)[0].numpy())
    for broken in ({**exe.to_json(), "inputs": [[[8, "4"], "f32"], [[4, 3], "f32"]]},
                   {**exe.to_json(), "buffers": [{"kind": "argument", "nbytes": 128, "index": 7}]},
                   {**exe.to_json(), "launches": [{"kernel": "k", "grid": [1, 1], "block": [1, 1, 1], "params": []}]},
                   {k: v for k, v in exe.to_json().items() if k != "ptx"}, []):
        with pytest.raises(ValueError):
            CudaExecutable.from_json(broken)


DRIVER_CALLS = {"cuInit", "cuDeviceGetCount", "cuDeviceGet", "cuDevicePrimaryCtxRetain", "cuCtxSetCurrent",
                "cuDeviceGetAttribute", "cuDeviceGetName", "cuModuleLoadData", "cuModuleGetFunction", "cuMemAlloc",
                "cuMemFree", "cuMemcpyHtoD", "cuMemcpyHtoDAsync", "cuMemcpyDtoH", "cuStreamCreate",
                "cuLaunchKernel", "cuStreamSynchronize"}


@pytest.mark.skipif(_has_gpu(), reason="needs cuda-python without a driver (the real calls must not run)")
def test_every_driver_call_has_arguments_cuda_python_accepts(emulated_gpu, monkeypatch):
    """The emulator mimics the driver API; this holds the runtime's calls to cuda-python's own
    signatures: each is made to the real bindings too, which must accept the arguments and only
    then fail to find libcuda."""
    shadow = Shadowed(emulated_gpu)
    monkeypatch.setattr(backend_cuda._Driver, "_instance", backend_cuda._Driver(shadow))
    model = MODELS[0]
    xs = model.make_inputs(np.random.default_rng(0))
    step = tg.compile_scalar(model.fn, model.specs, target="cuda")
    value, grads = step.value_and_grad(*xs)  # host inputs
    on_gpu = [tg.to_device(np.asarray(x, s.np_dtype)) for x, s in zip(xs, model.specs)]
    assert np.isclose(step.forward(*on_gpu), value)  # device inputs
    assert all(g is None or g.numpy().shape == g.shape for g in grads)
    del grads
    assert shadow.mismatches == []
    assert shadow.called == DRIVER_CALLS


def test_a_driver_error_is_a_tgraph_error_saying_what_failed(emulated_gpu):
    f = tg.compile_out(lambda x: x * 2.0, [tg.f32[1024]], target="cuda")
    f.forward(np.ones(1024, np.float32))
    emulated_gpu.failing["cuMemAlloc"] = 2  # CUDA_ERROR_OUT_OF_MEMORY
    with pytest.raises(tg.TGraphError, match=r"CUDA error CUDA_ERROR_OUT_OF_MEMORY while allocating 4096 bytes"):
        f.forward(np.ones(1024, np.float32))


def test_buffers_are_allocated_once_per_compiled_object(emulated_gpu):
    f = tg.compile_scalar(MODELS[0].fn, MODELS[0].specs, target="cuda")
    xs = MODELS[0].make_inputs(np.random.default_rng(0))
    f.value_and_grad(*xs)
    before = emulated_gpu.live_bytes()
    for _ in range(3):
        value, grads = f.value_and_grad(*xs)
    del value, grads
    assert emulated_gpu.live_bytes() == before  # outputs were freed with their arrays; nothing else grew


@pytest.mark.gpu
@needs_gpu
def test_dlpack_round_trip_with_pytorch():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    f = tg.compile_out(lambda x, y: x * y + 1.0, [tg.f32[64], tg.f32[64]], target="cuda")
    x = torch.randn(64, device="cuda")
    y = torch.randn(64, device="cuda")
    out = torch.from_dlpack(f.forward(x, y))
    assert out.device.type == "cuda"
    torch.testing.assert_close(out, x * y + 1.0)


def test_results_that_share_a_value_run(device):
    """A value returned twice, an argument returned twice, and CSE-merged gradients: each result
    gets a buffer of its own on the GPU too."""
    x = np.linspace(-1, 1, 4).astype(np.float32)
    for fn in (lambda x: (tg.tanh(x), tg.tanh(x)), lambda x: (x, x, tg.tanh(x))):
        check(tg.trace(fn, [tg.f32[4]]), x, compile=_on_the_device)
    step = tg.compile_scalar(lambda x, a, b: tg.sum(tg.tanh(x + a + b)), [tg.f32[4]] * 3, target="cuda")
    _, grads = step.value_and_grad(x, x, x)
    for g in grads:
        _close(g.numpy(), 1 - np.tanh(3 * x.astype(np.float64)) ** 2)


def test_newer_llvm_float_constants_are_rewritten_for_llvmlite():
    """The bindings' LLVM writes special floats as +qnan, -inf, f0x...; llvmlite reads the old hex forms
    (a cross-entropy with an out-of-range label selects a NaN constant)."""
    from tgraph.backends.ptx import _older_syntax

    text = ("%a = select i1 %c, float %x, float +qnan\n%b = fadd double %y, -inf\n%h = fmul half %z, -qnan\n"
            "%f = fmul float %w, f0x3F800000\n%s = fadd bfloat %v, +inf\n%n = fadd float %u, nan\n")
    assert _older_syntax(text).splitlines() == [
        "%a = select i1 %c, float %x, float 0x7FF8000000000000", "%b = fadd double %y, 0xFFF0000000000000",
        "%h = fmul half %z, 0xHFE00", "%f = fmul float %w, 0x3FF0000000000000", "%s = fadd bfloat %v, 0xR7F80",
        "%n = fadd float %u, 0x7FF8000000000000"]
    # decimals that are exact only in the constant's own type (0.1 as a float), next to doubles left alone
    text = ("%m = fmul float %35, 1.000000e-01\n%d = call double @f(float %a, double 1.000000e-01)\n"
            "%v = fadd <2 x float> %w, <float 2.500000e-01, float -3.000000e-01>\n%k = fmul half %z, 1.000000e-01\n")
    assert _older_syntax(text).splitlines() == [
        "%m = fmul float %35, 0x3FB99999A0000000", "%d = call double @f(float %a, double 1.000000e-01)",
        "%v = fadd <2 x float> %w, <float 0x3FD0000000000000, float 0xBFD3333340000000>",
        "%k = fmul half %z, 0xH2E66"]
    import llvmlite.binding as llvm
    llvm.parse_assembly("define float @f(float %x) {\n  %y = fmul float %x, 1.000000e-01\n  ret float %y\n}\n"
                        .replace("1.000000e-01", _older_syntax("fmul float %x, 1.000000e-01").split(", ")[1].strip()))


# ----------------------------------------------------------------------------- control flow
def _control_flow_cases():
    from test_control_flow import FLOWS
    return [f for f in FLOWS if f.name in ("scan_rnn", "scan_checkpoint_3", "fori_euler", "while_newton", "cond_true",
                                           "switch_1", "scan_pytree", "cond_passthrough")]


@pytest.mark.parametrize("case", _control_flow_cases(), ids=lambda f: f.name)
def test_control_flow_runs(case, device):
    """Loops and branches on the GPU: the host function's loop runs inside a kernel (one thread,
    its body's ops as loops), forward and value_and_grad against the interpreter, with the caller's
    device arrays left as they were."""
    graph = tg.trace(case.fn, case.specs)
    args = case.make_inputs(np.random.default_rng(0))
    compiled = tg.compile_scalar(graph, target="cuda")
    on_device = [tg.to_device(a) for a in args]
    value, grads = compiled.value_and_grad(*on_device)
    np.testing.assert_allclose(value, graph(*args), rtol=1e-10)
    want = tg.grad(graph)(*args)
    for got, expected in zip(grads, want if isinstance(want, tuple) else (want,)):
        if got is not None:
            np.testing.assert_allclose(got.numpy() if hasattr(got, "numpy") else got, expected, rtol=1e-8, atol=1e-10)
    for a, d in zip(args, on_device):
        np.testing.assert_array_equal(d.numpy(), a)


@needs_ptxas
def test_control_flow_assembles_for_sm90():
    for case in _control_flow_cases():
        exe = CudaExecutable(tg.value_and_grad(tg.trace(case.fn, case.specs)))
        _assert_launches_match_ptx(exe)
        assert ptx.assemble(exe.ptx, 90)
