"""tg-gpu-kernels: every linalg.generic of a bufferized function becomes one GPU kernel, written as
an `scf.forall` over blocks that holds `scf.forall`s over threads.

Threads of one block synchronize only between sibling thread loops (`tg-map-to-gpu` puts a
`gpu.barrier` after each), so running the loops one after another, as a CPU does after
`scf-forall-to-for`, means the same: the kernels' arithmetic is tested on the CPU that way.

Four kernel shapes, picked per op:
- pointwise (no reduction): one thread per point, 256 threads a block;
- contraction (C[b,m,n] = f(A[b,m,k], B[b,k,n], C) over k, any layout): 64x64 tiles of C per
  block, A and B staged through workgroup memory 16 k-steps at a time, 4x4 outputs a thread;
- tree reduction (a known combiner such as addf or maximumf, at least 64 terms): one block per
  output, each thread folds a strided share of the terms, then a tree in workgroup memory;
- serial reduction (anything else): one thread per output folds its terms in order.
"""

import dataclasses
import math

from tgraph.support.mlir import _load, arith, ir, scf
from tgraph.support.symbols import functions

from ..base import ModulePass, PassFailure, collect_ops
from ..pipeline import register_pass
from ..loop_nest import NEUTRAL_ELEMENTS, loop_nest, neutral_element

memref = _load("dialects.memref")
affine = _load("dialects.affine")

KERNEL_ATTR = "tg.kernel"          # on each block loop: its number, for tg-map-to-gpu
KIND_ATTR = "tg.kernel_kind"       # on each block loop: pointwise, contraction, tree or serial reduction
BLOCK_DIMS_ATTR = "tg.block_dims"  # on each block loop: the threads it needs
THREADS = 256
TILE_M, TILE_N, TILE_K = 64, 64, 16   # a contraction block's tile; 16x16 threads, 4x4 outputs each
THREADS_M = THREADS_N = 16
TREE_MIN_TERMS = 64
CONTRACTION_MIN_WORK = 32 ** 3        # smaller contractions are serial reductions

def _index(value):
    return arith.ConstantOp(ir.IndexType.get(), value).result


def _neutral(combiner, element_type):
    return arith.ConstantOp(element_type, neutral_element(combiner, element_type)).result


class Generic:
    """A linalg.generic on memrefs with static loop sizes, and how to emit its pieces."""

    def __init__(self, op):
        self.op = op
        nest = loop_nest(op, scalars=True)  # a scalar input: a generalized fill's value
        if nest is None or any(s < 0 for s in nest.sizes):
            raise PassFailure("tg-gpu-kernels needs static loop sizes", op.location)
        self.kinds, self.sizes, self.n_inputs = nest.kinds, nest.sizes, nest.inputs
        self.parallel, self.reduction, self.combiner = nest.parallel, nest.reductions, nest.combiner
        self.maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
        self.operands = list(op.operands)
        self.block = op.regions[0].blocks[0]

    @property
    def outputs(self):
        return self.operands[self.n_inputs:]

    def indices(self, operand, dims):
        """The indices of operand number `operand` at loop point `dims` (index values)."""
        amap = self.maps[operand]
        out = []
        for expr in amap.results:
            if isinstance(expr, ir.AffineDimExpr):
                out.append(dims[expr.position])
            else:
                single = ir.AffineMap.get(amap.n_dims, 0, [expr])
                out.append(affine.AffineApplyOp(single, [d if d is not None else _index(0) for d in dims]).result)
        return out

    def load(self, operand, dims):
        if not isinstance(self.operands[operand].type, ir.MemRefType):
            return self.operands[operand]
        return memref.LoadOp(self.operands[operand], self.indices(operand, dims)).result

    def store(self, value, operand, dims):
        memref.StoreOp(value, self.operands[operand], self.indices(operand, dims))

    def used(self, operand):
        return len(list(self.block.arguments[operand].uses)) > 0

    def body(self, values, dims):
        """Clone the body at the insertion point with its block arguments set to `values` (None
        for unused ones) and linalg.index to `dims`; returns the yielded values."""
        mapping = {}
        for arg, v in zip(self.block.arguments, values):
            if v is not None:
                mapping[arg] = v
        for op in self.block.operations:
            if op.name == "linalg.yield":
                return [mapping.get(v, v) for v in op.operands]
            if op.name == "linalg.index":
                mapping[op.results[0]] = dims[ir.IntegerAttr(op.attributes["dim"]).value]
                continue
            clone = op.clone()
            _remap(clone, mapping)
            for old, new in zip(op.results, clone.results):
                mapping[old] = new
        raise PassFailure("linalg.generic without linalg.yield", self.op.location)

    def point(self, loop_dims, parallel_values=None, reduction_values=None):
        dims = [None] * len(self.kinds)
        for d, v in zip(self.parallel, parallel_values or []):
            dims[d] = v
        for d, v in zip(self.reduction, reduction_values or []):
            dims[d] = v
        for d, v in (loop_dims or {}).items():
            dims[d] = v
        return dims


def _remap_operands(op, mapping):
    for i, v in enumerate(op.operands):
        if v in mapping:
            op.operands[i] = mapping[v]


def _remap(op, mapping):
    op.walk(lambda inner: _remap_operands(inner, mapping) or ir.WalkResult.ADVANCE)


def _delinearize(linear, sizes):
    """Indices of `linear` in a row-major box of static `sizes`."""
    out = []
    for i, size in enumerate(sizes):
        stride = math.prod(sizes[i + 1:])
        q = arith.DivUIOp(linear, _index(stride)).result if stride > 1 else linear
        out.append(arith.RemUIOp(q, _index(size)).result if i > 0 else q)
    return out


def _linear(block_iv, thread_iv, threads):
    return arith.AddIOp(arith.MulIOp(block_iv, _index(threads)).result, thread_iv).result


class Kernels:
    """Emits the block/thread loop nests; numbers kernels and names their workgroup buffers."""

    def __init__(self, module, workgroup_memory):
        self.module, self.count, self.buffers = module, 0, 0
        self.memory_space = ir.Attribute.parse("#gpu.address_space<workgroup>") if workgroup_memory else None

    def blocks(self, grid, threads, kind):
        dims = "xyz"[:len(grid)]
        mapping = ir.ArrayAttr.get([ir.Attribute.parse(f"#gpu.block<{d}>") for d in dims])
        loop = scf.ForallOp([0] * len(grid), list(grid), [1] * len(grid), mapping=mapping)
        loop.operation.attributes[KERNEL_ATTR] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), self.count)
        loop.operation.attributes[BLOCK_DIMS_ATTR] = ir.DenseI64ArrayAttr.get([threads, 1, 1])
        loop.operation.attributes[KIND_ATTR] = ir.StringAttr.get(kind)
        self.count += 1
        return loop

    @staticmethod
    def threads(count):
        mapping = ir.ArrayAttr.get([ir.Attribute.parse("#gpu.thread<x>")])
        return scf.ForallOp([0], [count], [1], mapping=mapping)

    def shared(self, shape, element_type):
        """A buffer in workgroup memory (a module-level global the outlining copies into the kernel)."""
        name = f"__tg_workgroup_{self.buffers}"
        self.buffers += 1
        t = ir.MemRefType.get(list(shape), element_type, memory_space=self.memory_space)
        with ir.InsertionPoint.at_block_begin(self.module.regions[0].blocks[0]):
            memref.GlobalOp(name, ir.TypeAttr.get(t), sym_visibility="private")
        return memref.GetGlobalOp(t, name).result


def _close(loop):
    loop.terminator()


def _thread_per_point(k, total, kind, emit):
    """A kernel of 256-thread blocks with one thread per point 0..total-1: emit(linear index)."""
    outer = k.blocks([max(1, -(-total // THREADS))], THREADS, kind)
    with ir.InsertionPoint(outer.body):
        inner = k.threads(THREADS)
        with ir.InsertionPoint(inner.body):
            linear = _linear(outer.induction_variables[0], inner.induction_variables[0], THREADS)
            if total % THREADS:
                guard = scf.IfOp(arith.CmpIOp(arith.CmpIPredicate.ult, linear, _index(total)).result)
                with ir.InsertionPoint(guard.then_block):
                    emit(linear)
                    scf.YieldOp([])
            else:
                emit(linear)
            _close(inner)
        _close(outer)


def _emit_pointwise(k, g):
    def emit(linear):
        dims = _delinearize(linear, g.sizes)
        values = [g.load(i, dims) if g.used(i) else None for i in range(len(g.operands))]
        for value, out in zip(g.body(values, dims), range(g.n_inputs, len(g.operands))):
            g.store(value, out, dims)

    _thread_per_point(k, math.prod(g.sizes), "pointwise", emit)


def _emit_serial_reduction(k, g):
    parallel = [g.sizes[d] for d in g.parallel]
    reduction = [g.sizes[d] for d in g.reduction]

    def emit(linear):
        p = _delinearize(linear, parallel)
        at_outputs = g.point(None, p, [_index(0)] * len(reduction))
        outs = list(range(g.n_inputs, len(g.operands)))
        init = [g.load(i, at_outputs) for i in outs]
        loop = scf.ForOp(_index(0), _index(math.prod(reduction)), _index(1), init)
        with ir.InsertionPoint(loop.body):
            dims = g.point(None, p, _delinearize(loop.induction_variable, reduction))
            values = [g.load(i, dims) if g.used(i) else None for i in range(g.n_inputs)]
            scf.YieldOp(g.body(values + list(loop.inner_iter_args), dims))
        for value, out in zip(loop.results, outs):
            g.store(value, out, at_outputs)

    _thread_per_point(k, math.prod(parallel), "serial reduction", emit)


def _combine(combiner_op, a, b):
    clone = combiner_op.clone()
    clone.operands[0], clone.operands[1] = a, b
    return clone.results[0]


def _emit_tree_reduction(k, g, combiner_op, combiner):
    parallel = [g.sizes[d] for d in g.parallel]
    reduction = [g.sizes[d] for d in g.reduction]
    terms = math.prod(reduction)
    threads = min(THREADS, 1 << (terms - 1).bit_length())
    element = ir.MemRefType(g.outputs[0].type).element_type
    outer = k.blocks([math.prod(parallel)], threads, "tree reduction")
    with ir.InsertionPoint(outer.body):
        partial = k.shared([threads], element)
        p = _delinearize(outer.induction_variables[0], parallel)
        # 1. each thread folds terms t, t + threads, ...
        fold = k.threads(threads)
        with ir.InsertionPoint(fold.body):
            t = fold.induction_variables[0]
            loop = scf.ForOp(t, _index(terms), _index(threads), [_neutral(combiner, element)])
            with ir.InsertionPoint(loop.body):
                dims = g.point(None, p, _delinearize(loop.induction_variable, reduction))
                values = [g.load(i, dims) if g.used(i) else None for i in range(g.n_inputs)]
                scf.YieldOp(g.body(values + list(loop.inner_iter_args), dims))
            memref.StoreOp(loop.results[0], partial, [t])
            _close(fold)
        # 2. a tree in workgroup memory: the first `half` threads add the upper half in
        stride = threads // 2
        while stride >= 1:
            step = k.threads(stride)
            with ir.InsertionPoint(step.body):
                t = step.induction_variables[0]
                other = arith.AddIOp(t, _index(stride)).result
                mine = memref.LoadOp(partial, [t]).result
                theirs = memref.LoadOp(partial, [other]).result
                memref.StoreOp(_combine(combiner_op, mine, theirs), partial, [t])
                _close(step)
            stride //= 2
        # 3. one thread combines the total into the output's running value
        last = k.threads(1)
        with ir.InsertionPoint(last.body):
            at_output = g.point(None, p, [_index(0)] * len(reduction))
            out = g.n_inputs
            total = memref.LoadOp(partial, [_index(0)]).result
            g.store(_combine(combiner_op, g.load(out, at_output), total), out, at_output)
            _close(last)
        _close(outer)


def _contraction_dims(g):
    """(batch dims, m, n, k) when g is C[b, m, n] = f(A[b, m, k], B[b, k, n], C) with plain maps, else None."""
    if g.n_inputs != 2 or len(g.operands) != 3 or len(g.reduction) != 1:
        return None
    if not all(isinstance(e, ir.AffineDimExpr) for m in g.maps for e in m.results):
        return None
    a, b, c = ({e.position for e in m.results} for m in g.maps)
    (k,) = g.reduction
    if k not in a or k not in b or k in c:
        return None
    m, n = a - b, b - a
    batch = a & b - {k}
    if len(m) != 1 or len(n) != 1 or batch | m | n != c or len(c) != len(g.parallel):
        return None
    return sorted(batch), m.pop(), n.pop(), k


def _emit_contraction(k, g, dims):
    batch, dm, dn, dk = dims
    M, N, K = g.sizes[dm], g.sizes[dn], g.sizes[dk]
    batch_sizes = [g.sizes[d] for d in batch]
    a_type, b_type = (ir.MemRefType(v.type).element_type for v in g.operands[:2])
    c_type = ir.MemRefType(g.operands[2].type).element_type
    outer = k.blocks([-(-N // TILE_N), -(-M // TILE_M), max(1, math.prod(batch_sizes))], THREADS, "contraction")
    bx, by, bz = outer.induction_variables
    per_thread_c = TILE_M * TILE_N // THREADS

    def point(b, m_value, n_value, k_value):
        at = dict(zip(batch, b))
        at.update({dm: m_value, dn: n_value, dk: k_value})
        return g.point(at)

    def clamped_load(operand, b, m_value, n_value, k_value, valid, zero):
        """operand at the point, or zero outside the bounds (the index is clamped to stay in them)."""
        clamp = {dm: M - 1, dn: N - 1, dk: K - 1}
        values = {dm: m_value, dn: n_value, dk: k_value}
        safe = {d: arith.MinUIOp(values[d], _index(clamp[d])).result for d in (dm, dn, dk)}
        loaded = g.load(operand, point(b, safe[dm], safe[dn], safe[dk]))
        return arith.SelectOp(valid, loaded, zero).result

    def in_range(value, bound):
        return arith.CmpIOp(arith.CmpIPredicate.ult, value, _index(bound)).result

    with ir.InsertionPoint(outer.body):
        b = _delinearize(bz, batch_sizes) if batch else []
        row0 = arith.MulIOp(by, _index(TILE_M)).result
        col0 = arith.MulIOp(bx, _index(TILE_N)).result
        tile_a = k.shared([TILE_M, TILE_K], a_type)
        tile_b = k.shared([TILE_K, TILE_N], b_type)
        tile_c = k.shared([TILE_M, TILE_N], c_type)

        def c_elements(t):
            """(row, col, global row, global col, inside C) of each C element thread t moves."""
            for e in range(per_thread_c):
                linear = arith.AddIOp(t, _index(e * THREADS)).result
                r, col = _delinearize(linear, [TILE_M, TILE_N])
                gm, gn = arith.AddIOp(row0, r).result, arith.AddIOp(col0, col).result
                inside = arith.AndIOp(in_range(gm, M), in_range(gn, N)).result
                yield r, col, gm, gn, inside

        # C's running values into workgroup memory
        load_c = k.threads(THREADS)
        with ir.InsertionPoint(load_c.body):
            zero_c = arith.ConstantOp(c_type, 0.0 if isinstance(c_type, ir.FloatType) else 0).result
            for r, col, gm, gn, inside in c_elements(load_c.induction_variables[0]):
                value = clamped_load(2, b, gm, gn, _index(0), inside, zero_c)
                memref.StoreOp(value, tile_c, [r, col])
            _close(load_c)

        k_tiles = scf.ForOp(_index(0), _index(-(-K // TILE_K)), _index(1))
        with ir.InsertionPoint(k_tiles.body):
            k0 = arith.MulIOp(k_tiles.induction_variable, _index(TILE_K)).result
            stage = k.threads(THREADS)
            with ir.InsertionPoint(stage.body):
                t = stage.induction_variables[0]
                zero_a = arith.ConstantOp(a_type, 0.0 if isinstance(a_type, ir.FloatType) else 0).result
                zero_b = arith.ConstantOp(b_type, 0.0 if isinstance(b_type, ir.FloatType) else 0).result
                for e in range(TILE_M * TILE_K // THREADS):
                    linear = arith.AddIOp(t, _index(e * THREADS)).result
                    r, col = _delinearize(linear, [TILE_M, TILE_K])
                    gm, gk = arith.AddIOp(row0, r).result, arith.AddIOp(k0, col).result
                    value = clamped_load(0, b, gm, _index(0), gk,
                                         arith.AndIOp(in_range(gm, M), in_range(gk, K)).result, zero_a)
                    memref.StoreOp(value, tile_a, [r, col])
                for e in range(TILE_K * TILE_N // THREADS):
                    linear = arith.AddIOp(t, _index(e * THREADS)).result
                    r, col = _delinearize(linear, [TILE_K, TILE_N])
                    gk, gn = arith.AddIOp(k0, r).result, arith.AddIOp(col0, col).result
                    value = clamped_load(1, b, _index(0), gn, gk,
                                         arith.AndIOp(in_range(gk, K), in_range(gn, N)).result, zero_b)
                    memref.StoreOp(value, tile_b, [r, col])
                _close(stage)

            compute = k.threads(THREADS)
            with ir.InsertionPoint(compute.body):
                t = compute.induction_variables[0]
                ty, tx = _delinearize(t, [THREADS_M, THREADS_N])
                rows = [arith.AddIOp(ty, _index(i * THREADS_M)).result for i in range(TILE_M // THREADS_M)]
                cols = [arith.AddIOp(tx, _index(j * THREADS_N)).result for j in range(TILE_N // THREADS_N)]
                acc = [memref.LoadOp(tile_c, [r, col]).result for r in rows for col in cols]
                # the last k tile may be partial: fold only the real terms, in order
                steps = arith.MinUIOp(_index(TILE_K), arith.SubIOp(_index(K), k0).result).result
                loop = scf.ForOp(_index(0), steps, _index(1), acc)
                with ir.InsertionPoint(loop.body):
                    kk = loop.induction_variable
                    a_values = [memref.LoadOp(tile_a, [r, kk]).result for r in rows]
                    b_values = [memref.LoadOp(tile_b, [kk, col]).result for col in cols]
                    running = list(loop.inner_iter_args)
                    new = []
                    for i, a_value in enumerate(a_values):
                        for j, b_value in enumerate(b_values):
                            gk = arith.AddIOp(k0, kk).result
                            at = point(b, arith.AddIOp(row0, rows[i]).result, arith.AddIOp(col0, cols[j]).result, gk)
                            new += g.body([a_value, b_value, running[i * len(cols) + j]], at)
                    scf.YieldOp(new)
                for (i, r) in enumerate(rows):
                    for (j, col) in enumerate(cols):
                        memref.StoreOp(loop.results[i * len(cols) + j], tile_c, [r, col])
                _close(compute)
            scf.YieldOp([])

        store_c = k.threads(THREADS)
        with ir.InsertionPoint(store_c.body):
            for r, col, gm, gn, inside in c_elements(store_c.induction_variables[0]):
                guard = scf.IfOp(inside)
                with ir.InsertionPoint(guard.then_block):
                    g.store(memref.LoadOp(tile_c, [r, col]).result, 2, point(b, gm, gn, _index(0)))
                    scf.YieldOp([])
            _close(store_c)
        _close(outer)


HOST_OPS = ("arith.constant", "memref.alloc", "memref.get_global", "memref.expand_shape", "memref.collapse_shape",
            "memref.subview", "memref.cast", "memref.reinterpret_cast", "memref.transpose", "memref.dealloc",
            "func.return", "scf.forall")


def _emit_single_thread(k, op):
    """Code that is not a linalg op (the loops of a scatter, say) runs as it is, in one GPU thread."""
    with ir.InsertionPoint(op), op.location:
        outer = k.blocks([1], 1, "single thread")
        with ir.InsertionPoint(outer.body):
            inner = k.threads(1)
            _close(inner)
            _close(outer)
    op.move_before(inner.body.operations[0])


def _reads_memory(value, cache):
    """Whether a host value comes from a memref.load (device memory the host cannot read)."""
    owner = value.owner
    if isinstance(owner, ir.Block):
        return False
    owner = owner.operation
    if owner not in cache:
        cache[owner] = owner.name == "memref.load" or (
            owner.name.startswith("arith.") and any(_reads_memory(v, cache) for v in owner.operands))
    return cache[owner]


def _sink_device_values(loop, host_ops):
    """Clone host computations that read device memory (a random key loaded from its tensor, say)
    into the kernel that uses them; `host_ops` are the function body's ops, in order."""
    cache = {}
    wanted = [op for op in host_ops if (op.name == "memref.load" or op.name.startswith("arith."))
              and any(_reads_memory(r, cache) for r in op.results)]
    if not wanted:
        return
    mapping = {}
    start = loop.regions[0].blocks[0].operations[0]
    for op in wanted:
        copy = op.clone(ir.InsertionPoint(start))
        _remap(copy, mapping)
        for old, new in zip(op.results, copy.results):
            mapping[old] = new
    inner = []
    loop.walk(lambda op: inner.append(op) or ir.WalkResult.ADVANCE)
    for op in inner:
        _remap_operands(op, mapping)


def _erase_dead_host_code(fn):
    changed = True
    while changed:
        changed = False
        for op in [o.operation for o in fn.regions[0].blocks[0].operations]:
            if (op.name == "memref.load" or op.name.startswith("arith.")) and not any(
                    len(list(r.uses)) for r in op.results):
                op.erase()
                changed = True


def _inside_kernel(op):
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        if KERNEL_ATTR in parent.attributes:
            return True
        parent = parent.parent
    return False


def _emit_loops(g):
    """The generic as a plain loop nest in its loop order (inside a kernel's single thread)."""
    def nest(dims):
        if len(dims) == len(g.sizes):
            values = [g.load(i, dims) if g.used(i) else None for i in range(len(g.operands))]
            for value, out in zip(g.body(values, dims), range(g.n_inputs, len(g.operands))):
                g.store(value, out, dims)
            return
        loop = scf.ForOp(_index(0), _index(g.sizes[len(dims)]), _index(1))
        with ir.InsertionPoint(loop.body):
            nest(dims + [loop.induction_variable])
            scf.YieldOp([])

    with ir.InsertionPoint(g.op), g.op.location:
        nest([])


def emit_kernel(kernels, op):
    g = Generic(op)
    with ir.InsertionPoint(op), op.location:
        if not g.reduction:
            _emit_pointwise(kernels, g)
            return "pointwise"
        dims = _contraction_dims(g)
        if dims is not None and math.prod(g.sizes) >= CONTRACTION_MIN_WORK:
            _emit_contraction(kernels, g, dims)
            return "contraction"
        combiner = g.combiner
        terms = math.prod(g.sizes[d] for d in g.reduction)
        out_uses = len(list(g.block.arguments[g.n_inputs].uses))
        if combiner in NEUTRAL_ELEMENTS and len(g.outputs) == 1 and out_uses == 1 and terms >= TREE_MIN_TERMS:
            combiner_op = g.block.operations[len(g.block.operations) - 1].operands[0].owner
            _emit_tree_reduction(kernels, g, combiner_op, combiner)
            return "tree reduction"
        _emit_serial_reduction(kernels, g)
        return "serial reduction"


@register_pass
@dataclasses.dataclass
class GpuKernels(ModulePass):
    name = "tg-gpu-kernels"
    summary = "each linalg.generic on memrefs -> a kernel: scf.forall over blocks of scf.foralls over threads"

    workgroup_memory: bool = dataclasses.field(
        default=True, metadata={"help": "stage tiles in GPU workgroup memory (false: plain memory, to run the kernels on a CPU)"})

    def run(self, module):
        kernels = Kernels(module, self.workgroup_memory)
        # Host-level code that is not a linalg op (a scatter's loop, say) runs as it is, in one thread.
        for fn in functions(module):
            for op in [o.operation for o in fn.regions[0].blocks[0].operations]:
                if op.name in HOST_OPS or op.name.startswith("arith.") or op.name.startswith("linalg.") \
                        or op.name == "memref.load":  # scalars read on the device: see _sink_device_values
                    continue
                if any(len(list(r.uses)) for r in op.results):
                    raise PassFailure(f"tg-gpu-kernels cannot place {op.name} (its results are used on the host)",
                                      op.location)
                _emit_single_thread(kernels, op)
        structured = lambda op: op.name.startswith("linalg.") and op.name not in ("linalg.yield", "linalg.index")  # noqa: E731
        for op in collect_ops(module, structured):
            if op.name != "linalg.generic":
                raise PassFailure(f"tg-gpu-kernels expects generic ops (run linalg-generalize-named-ops first), "
                                  f"found {op.name}", op.location)
            if _inside_kernel(op):
                _emit_loops(Generic(op))
            else:
                emit_kernel(kernels, op)
            op.erase()
        for fn in functions(module):
            host_ops = [o.operation for o in fn.regions[0].blocks[0].operations]
            for loop in [op for op in host_ops if KERNEL_ATTR in op.attributes]:
                _sink_device_values(loop, host_ops)
            _erase_dead_host_code(fn)
