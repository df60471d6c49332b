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

import functools
import re

import numpy as np
import pytest

import tgraph as tg
from tgraph import dlpack, ptx
from tgraph.backend_cpu import CpuExecutable
from tgraph.backend_cuda import CudaExecutable, DeviceArray, NO_DRIVER
from models import MODELS
from op_table import CASES
from test_lowering import check

kernels_on_cpu = functools.partial(CpuExecutable, pipeline="tg-gpu-kernels-on-cpu")
needs_ptxas = pytest.mark.skipif(ptx.ptxas_path() is None, reason="ptxas not found (install tgraph[cuda] or a CUDA toolkit)")


def _has_gpu():
    try:
        from tgraph.backend_cuda import driver
        driver()
        return True
    except Exception:
        return False


needs_gpu = pytest.mark.skipif(not _has_gpu(), reason="no NVIDIA GPU and driver")


def _kinds(graph):
    from tgraph import dialect
    from tgraph.mlir import ir
    from tgraph.passes import build_pass_manager
    from tgraph.passes.tg_gpu_pipeline import kernel_pipeline

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
]


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


# ----------------------------------------------------------------------------- on a GPU
@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_op_table_case_on_the_gpu(case):
    graph = tg.trace(case.fn, case.specs)
    check(graph, *case.make_inputs(np.random.default_rng(0)), exact=case.op in ("random_uniform", "bernoulli"),
          compile=lambda g: (lambda *xs: [x.numpy() for x in CudaExecutable(g)(*xs)]))


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("name, fn, specs, kind", KERNEL_CASES, ids=[c[0] for c in KERNEL_CASES])
def test_kernel_kinds_on_the_gpu(name, fn, specs, kind):
    graph = tg.trace(fn, specs)
    check(graph, *_inputs(specs, np.random.default_rng(1)),
          compile=lambda g: (lambda *xs: [x.numpy() for x in CudaExecutable(g)(*xs)]))


@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_model_entry_points_on_the_gpu(model):
    rng = np.random.default_rng(0)
    xs = [np.asarray(a, s.np_dtype) for a, s in zip(model.make_inputs(rng), model.specs)]
    cpu = tg.compile_scalar(model.fn, model.specs)
    gpu = tg.compile_scalar(model.fn, model.specs, target="cuda")
    assert np.isclose(gpu.forward(*xs), cpu.forward(*xs), rtol=1e-4)
    value, grads = gpu.value_and_grad(*xs)
    want_value, want_grads = cpu.value_and_grad(*xs)
    assert np.isclose(value, want_value, rtol=1e-4)
    for g, w in zip(grads, want_grads):
        if w is not None:
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-3, atol=1e-5)
    for g, w in zip(gpu.backward(*xs), cpu.backward(*xs)):
        if w is not None:
            np.testing.assert_allclose(np.asarray(g), w, rtol=1e-3, atol=1e-5)


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
