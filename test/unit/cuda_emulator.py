"""A CUDA driver that runs on the CPU, so the GPU runtime is tested on machines without a GPU.

`Emulator` stands in for cuda-python's `cuda.bindings.driver`: the functions the runtime calls,
with the same arguments and the same `(CUresult, value)` returns. Device memory is host memory,
filled with 0xff bytes when allocated so that an output nobody wrote reads as NaN. A module is
the LLVM IR its PTX was made from (`remember` records the pair), compiled for the CPU with
llvmlite: the NVVM special registers (tid, ntid, ctaid, nctaid) become functions that read the
launch's sizes and the calling OS thread's ids (kept under a pthread key), `__nv_*` math
resolves to libm, workgroup memory is an ordinary global. A kernel with barriers runs each
block's threads as OS threads (from a pool) that meet at every barrier, a pthread barrier, and
once more between blocks, which then cannot share workgroup memory; one without runs its threads
in turn. Like the driver it checks what it can: copies and every pointer a launch passes must lie
in live allocations, and a block may not exceed the kernel's maxntid.

Handles (devices, contexts, streams, modules, functions, device pointers) are cuda-python's own
types, so `Shadowed` can also pass every call's arguments to the real bindings: on a machine
without a driver they must fail at loading libcuda, after accepting the arguments.

What it does not check: llvmlite's NVPTX code generation, the PTX loader and the real driver."""

import ctypes
import ctypes.util
from concurrent import futures
import itertools
import re
import threading

import llvmlite.binding as llvm
from cuda.bindings import driver as cuda

SUCCESS = cuda.CUresult.CUDA_SUCCESS
CTYPES = {"ptr": ctypes.c_void_p, "i64": ctypes.c_int64, "i32": ctypes.c_int32, "i16": ctypes.c_int16,
          "i8": ctypes.c_int8, "i1": ctypes.c_bool, "float": ctypes.c_float, "double": ctypes.c_double}
SPECIAL_REGISTER = re.compile(r"@llvm\.nvvm\.read\.ptx\.sreg\.(tid|ntid|ctaid|nctaid)\.([xyz])\b")
BARRIER = re.compile(r"@llvm\.nvvm\.barrier[\w.]*")


class EmulatorError(AssertionError):
    pass


# ---------------------------------------------------------------------------- threads and blocks
_libc = ctypes.CDLL(None)
_libm = ctypes.CDLL(ctypes.util.find_library("m"))
_libc.pthread_setspecific.argtypes = [ctypes.c_uint, ctypes.c_void_p]
_libc.pthread_barrier_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
_libc.pthread_barrier_destroy.argtypes = [ctypes.c_void_p]


class _Shared:
    """What every emulated thread reads: the launch's dimensions (ntid xyz, nctaid xyz) and the
    block's barrier; and the pthread key under which each OS thread keeps its ids (tid xyz, ctaid xyz)."""

    def __init__(self):
        self.dims = (ctypes.c_int32 * 6)(1, 1, 1, 1, 1, 1)
        self.barrier = (ctypes.c_ubyte * 256)()  # a pthread_barrier_t, with room to spare
        self.key = ctypes.c_uint()
        if _libc.pthread_key_create(ctypes.byref(self.key), None):
            raise EmulatorError("pthread_key_create failed")
        for name, obj in (("tg_emu_dims", self.dims), ("tg_emu_barrier_object", self.barrier)):
            llvm.add_symbol(name, ctypes.addressof(obj))
        for name in ("pthread_getspecific", "pthread_barrier_wait"):
            llvm.add_symbol(name, ctypes.cast(getattr(_libc, name), ctypes.c_void_p).value)


_shared = None
_RUNTIME = """
@tg_emu_dims = external global [6 x i32]
@tg_emu_barrier_object = external global [256 x i8]
declare ptr @pthread_getspecific(i32)
declare i32 @pthread_barrier_wait(ptr)
define void @tg_emu_barrier(i32 %unused) {
  %r = call i32 @pthread_barrier_wait(ptr @tg_emu_barrier_object)
  ret void
}
""" + "".join(f"""
define i32 @tg_emu_{register}_{letter}() {{
  %ids = call ptr @pthread_getspecific(i32 KEY)
  %p = getelementptr i32, ptr %ids, i32 {3 * (register == "ctaid") + axis}
  %v = load i32, ptr %p
  ret i32 %v
}}""" for register in ("tid", "ctaid") for axis, letter in enumerate("xyz")) + "".join(f"""
define i32 @tg_emu_{register}_{letter}() {{
  %p = getelementptr i32, ptr @tg_emu_dims, i32 {3 * (register == "nctaid") + axis}
  %v = load i32, ptr %p
  ret i32 %v
}}""" for register in ("ntid", "nctaid") for axis, letter in enumerate("xyz"))


def _unpack(prefix, linear, offset):
    """IR that splits a linear block or thread number into x, y, z and stores them in the ids."""
    lines = [f"  %{prefix}r0 = add i32 {linear}, 0"]
    for axis in range(3):
        lines += [f"  %{prefix}n{axis} = load i32, ptr getelementptr (i32, ptr @tg_emu_dims, i32 "
                  f"{3 * (prefix == 'b') + axis})",
                  f"  %{prefix}c{axis} = urem i32 %{prefix}r{axis}, %{prefix}n{axis}",
                  f"  %{prefix}r{axis + 1} = udiv i32 %{prefix}r{axis}, %{prefix}n{axis}",
                  f"  %{prefix}p{axis} = getelementptr i32, ptr %ids, i32 {offset + axis}",
                  f"  store i32 %{prefix}c{axis}, ptr %{prefix}p{axis}"]
    return "\n".join(lines)


def _runners(name, types):
    """Two entry points per kernel. `serial`: every block's threads one after another (exact when
    no thread waits for another). `thread`: one OS thread's share, its blocks in order with a
    barrier after each, so a block's threads never see the next block's workgroup memory."""
    params = ", ".join(f"{t} %a{i}" for i, t in enumerate(types))
    call = f"call void @{name}({params})"
    count = ("  %nb = mul i32 %gx, %gy\n  %blocks = mul i32 %nb, %gz\n"
             "  %nt0 = mul i32 %tx, %ty\n  %threads = mul i32 %nt0, %tz")
    loads = "\n".join(f"  %{v} = load i32, ptr getelementptr (i32, ptr @tg_emu_dims, i32 {i})"
                       for i, v in enumerate(("tx", "ty", "tz", "gx", "gy", "gz")))
    return f"""
define void @tg_emu_serial_{name}(ptr %ids{", " + params if params else ""}) {{
entry:
{loads}
{count}
  %total = mul i32 %blocks, %threads
  br label %loop
loop:
  %i = phi i32 [0, %entry], [%next, %loop]
  %tlinear = urem i32 %i, %threads
  %blinear = udiv i32 %i, %threads
{_unpack("t", "%tlinear", 0)}
{_unpack("b", "%blinear", 3)}
  {call}
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %total
  br i1 %done, label %exit, label %loop
exit:
  ret void
}}

define void @tg_emu_thread_{name}(ptr %ids{", " + params if params else ""}) {{
entry:
{loads}
{count}
  br label %loop
loop:
  %i = phi i32 [0, %entry], [%next, %loop]
{_unpack("b", "%i", 3)}
  {call}
  call void @tg_emu_barrier(i32 0)
  %next = add i32 %i, 1
  %done = icmp eq i32 %next, %blocks
  br i1 %done, label %exit, label %loop
exit:
  ret void
}}
"""


def _for_the_cpu(llvm_ir, key):
    """The device LLVM IR for this CPU: no target lines, no kernel calling convention, workgroup
    memory in the ordinary address space, the special registers and the barrier our own."""
    text = "\n".join(line for line in llvm_ir.splitlines()
                     if not line.startswith(("target datalayout", "target triple")))
    text = text.replace("ptx_kernel ", "").replace(" addrspace(3)", "")
    text = SPECIAL_REGISTER.sub(r"@tg_emu_\1_\2", text)
    text = BARRIER.sub("@tg_emu_barrier", text)
    # A barrier just before a kernel returns orders nothing; dropping it lets more kernels run serially.
    text = re.sub(r"\n  call void @tg_emu_barrier\(i32 0\)\n  ret void\n", "\n  ret void\n", text)
    text = "\n".join(line for line in text.splitlines() if not re.match(r"declare .*@tg_emu_", line))
    return text + _RUNTIME.replace("KEY", str(key))


class Module:
    """A loaded module: its kernels compiled for this CPU."""

    def __init__(self, llvm_ir):
        global _shared
        if _shared is None:
            llvm.initialize_native_target()
            llvm.initialize_native_asmprinter()
            # This CPU converts f16 through libgcc's __extendhfsf2 and __truncsfhf2.
            llvm.load_library_permanently(ctypes.util.find_library("gcc_s"))
            _shared = _Shared()
        text = _for_the_cpu(llvm_ir, _shared.key.value)
        for name in set(re.findall(r"declare [^@]*@(__nv_\w+)\(", text)):
            libm_name = name[len("__nv_"):]
            if not hasattr(_libm, libm_name):
                raise EmulatorError(f"no CPU function for libdevice's {name}")
            llvm.add_symbol(name, ctypes.cast(getattr(_libm, libm_name), ctypes.c_void_p).value)
        kernels = re.findall(r"^define (?:\w+ )*void @(tg_kernel_\w+)\(", text, re.M)
        # The largest block each kernel declares (.maxntid in PTX): the driver refuses larger launches.
        groups = dict(re.findall(r'^attributes (#\d+) = \{[^}]*"nvvm.maxntid"="([\d,]+)"', text, re.M))
        self.max_block = {}
        for k in kernels:
            group = re.search(rf"^define [^\n]*@{k}\([^\n]*\) (#\d+)", text, re.M)
            if group and group.group(1) in groups:
                self.max_block[k] = tuple(int(n) for n in groups[group.group(1)].split(","))
        parsed = llvm.parse_assembly(text)
        self.types = {k: [str(a.type) for a in parsed.get_function(k).arguments] for k in kernels}
        self.barriers = {k: "@tg_emu_barrier" in text[text.index(f"@{k}("):].split("\n}\n")[0] for k in kernels}
        text += "".join(_runners(k, self.types[k]) for k in kernels)
        self.module = llvm.parse_assembly(text)
        self.module.verify()
        machine = llvm.Target.from_default_triple().create_target_machine(opt=1)
        self.engine = llvm.create_mcjit_compiler(self.module, machine)
        self.engine.finalize_object()

    def function(self, name):
        if name not in self.types:
            raise EmulatorError(f"cuModuleGetFunction: no kernel {name}")
        types = [CTYPES[t] for t in self.types[name]]
        runner = "thread" if self.barriers[name] else "serial"
        address = self.engine.get_function_address(f"tg_emu_{runner}_{name}")
        return Kernel(self, name, types, ctypes.CFUNCTYPE(None, ctypes.c_void_p, *types)(address), self.barriers[name])


class Kernel:
    def __init__(self, module, name, types, run, has_barriers):
        self.module = module  # as a driver keeps a loaded module: its code must outlive the launches
        self.name, self.types, self._run, self.has_barriers = name, types, run, has_barriers

    def run(self, grid, block, args):
        _shared.dims[:] = [*block, *grid]
        if not self.has_barriers:
            ids = (ctypes.c_int32 * 6)()
            _libc.pthread_setspecific(_shared.key, ctypes.addressof(ids))
            self._run(ctypes.addressof(ids), *args)
            return
        threads = [(x, y, z) for z, y, x in itertools.product(*map(range, reversed(block)))]
        _libc.pthread_barrier_init(ctypes.addressof(_shared.barrier), None, len(threads))

        def thread(tid):
            ids = (ctypes.c_int32 * 6)(*tid, 0, 0, 0)
            _libc.pthread_setspecific(_shared.key, ctypes.addressof(ids))
            self._run(ctypes.addressof(ids), *args)

        # All of a block's threads must run at once (they wait for each other): the pool has room for 1024.
        done, waiting = futures.wait([_pool.submit(thread, tid) for tid in threads], timeout=120)
        if waiting:
            raise EmulatorError(f"{self.name}: threads did not all reach a barrier (a hang on a GPU)")
        _libc.pthread_barrier_destroy(ctypes.addressof(_shared.barrier))
        for f in done:
            f.result()


_pool = futures.ThreadPoolExecutor(max_workers=1024, thread_name_prefix="emulated-gpu-thread")


# ---------------------------------------------------------------------------- the driver API
class Emulator:
    """The subset of `cuda.bindings.driver` the runtime uses, on the CPU."""

    CUdevice_attribute = cuda.CUdevice_attribute

    def __init__(self, sm=90):
        self.sm = sm
        self.failing = {}  # driver call name -> the CUresult it returns from now on
        self.allocations = {}  # address -> ctypes buffer
        self.sources = {}  # PTX text -> the LLVM IR it was made from
        self.launches = []  # (kernel name, grid, block)
        self._objects = {}  # handle value -> the module or kernel behind it
        self._lock = threading.Lock()

    def _handle(self, kind, obj=None):
        value = 0x1000 * (len(self._objects) + 1)
        self._objects[value] = obj
        return kind(value)

    def remember(self, llvm_ir, ptx):
        self.sources[ptx] = llvm_ir

    def live_bytes(self):
        return sum(len(b) for b in self.allocations.values())

    def _inside(self, address, nbytes, what):
        for start, buffer in self.allocations.items():
            if start <= address and address + nbytes <= start + len(buffer):
                return
        raise EmulatorError(f"{what}: {nbytes} bytes at {address:#x} are not in device memory")

    # context and device
    def cuInit(self, flags):
        return (SUCCESS,)

    def cuDeviceGetCount(self):
        return (SUCCESS, 1)

    def cuDeviceGet(self, ordinal):
        return (SUCCESS, cuda.CUdevice(ordinal))

    def cuDevicePrimaryCtxRetain(self, device):
        return (SUCCESS, self._handle(cuda.CUcontext))

    def cuCtxSetCurrent(self, context):
        return (SUCCESS,)

    def cuDeviceGetAttribute(self, attribute, device):
        major = attribute == cuda.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
        return (SUCCESS, self.sm // 10 if major else self.sm % 10)

    def cuDeviceGetName(self, length, device):
        return (SUCCESS, b"CPU emulator".ljust(length, b"\0"))

    def cuGetErrorName(self, error):
        return (SUCCESS, cuda.CUresult(int(error)).name.encode())

    # memory
    def cuMemAlloc(self, nbytes):
        if "cuMemAlloc" in self.failing:
            return (self.failing["cuMemAlloc"], None)
        buffer = (ctypes.c_ubyte * nbytes)()
        ctypes.memset(buffer, 0xFF, nbytes)
        address = ctypes.addressof(buffer)
        self.allocations[address] = buffer
        return (SUCCESS, cuda.CUdeviceptr(address))

    def cuMemFree(self, address):
        if self.allocations.pop(int(address), None) is None:
            raise EmulatorError(f"cuMemFree of {int(address):#x}, which is not allocated")
        return (SUCCESS,)

    def cuMemcpyHtoD(self, device, host, nbytes):
        self._inside(device, nbytes, "cuMemcpyHtoD")
        ctypes.memmove(device, host, nbytes)
        return (SUCCESS,)

    def cuMemcpyHtoDAsync(self, device, host, nbytes, stream):
        return self.cuMemcpyHtoD(device, host, nbytes)

    def cuMemcpyDtoH(self, host, device, nbytes):
        self._inside(device, nbytes, "cuMemcpyDtoH")
        ctypes.memmove(host, device, nbytes)
        return (SUCCESS,)

    # streams, modules, launches
    def cuStreamCreate(self, flags):
        return (SUCCESS, self._handle(cuda.CUstream))

    def cuStreamSynchronize(self, stream):
        return (SUCCESS,)

    def cuModuleLoadData(self, image):
        ptx = bytes(image).rstrip(b"\0").decode()
        if ptx not in self.sources:
            raise EmulatorError("cuModuleLoadData: PTX the emulator was not told the source of")
        return (SUCCESS, self._handle(cuda.CUmodule, Module(self.sources[ptx])))

    def cuModuleGetFunction(self, module, name):
        return (SUCCESS, self._handle(cuda.CUfunction, self._objects[int(module)].function(name.decode())))

    def cuLaunchKernel(self, function, gx, gy, gz, bx, by, bz, shared_bytes, stream, params, extra):
        kernel = self._objects[int(function)]
        if not isinstance(params, int) or extra != 0:
            raise EmulatorError("cuLaunchKernel: expected kernelParams as the address of a pointer array")
        if bx * by * bz > 1024:
            raise EmulatorError(f"{kernel.name}: {bx * by * bz} threads in a block; the limit is 1024")
        most = kernel.module.max_block.get(kernel.name)
        if most and any(n > m for n, m in zip((bx, by, bz), most)):
            raise EmulatorError(f"{kernel.name}: block {(bx, by, bz)} exceeds the kernel's maxntid {most}")
        cells = (ctypes.c_void_p * len(kernel.types)).from_address(params)
        args = [t.from_address(cell).value for t, cell in zip(kernel.types, cells)]
        for t, value in zip(kernel.types, args):
            if t is ctypes.c_void_p:
                self._inside(value or 0, 0, f"{kernel.name}'s pointer argument")
        with self._lock:
            kernel.run((gx, gy, gz), (bx, by, bz), args)
            self.launches.append((kernel.name, (gx, gy, gz), (bx, by, bz)))
        return (SUCCESS,)


class Shadowed:
    """An Emulator whose every call is first made to the real bindings with the same arguments,
    on a machine without a driver: a call that fails other than at loading libcuda (a TypeError
    for an argument of the wrong kind, say) is recorded in `mismatches`."""

    def __init__(self, emulator):
        self.emulator, self.called, self.mismatches = emulator, set(), []

    def __getattr__(self, name):
        emulated = getattr(self.emulator, name)
        if not callable(emulated) or isinstance(emulated, type):
            return emulated

        def call(*args):
            self.called.add(name)
            try:
                getattr(cuda, name)(*args)
                self.mismatches.append(f"{name}: the real call succeeded (is there a driver?)")
            except Exception as err:  # noqa: BLE001
                if type(err).__name__ != "DynamicLibNotFoundError":
                    self.mismatches.append(f"{name}{args!r}: {type(err).__name__}: {err}")
            return emulated(*args)
        return call
