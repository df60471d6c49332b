"""Collectives -> calls into the MPI library mpi4py loaded (the compiled code's process is an MPI
process), on contiguous buffers.

At the tensor level each collective becomes: its operand, flattened, copied into a fresh buffer
(`bufferization.to_buffer` + `memref.copy`: contiguous whatever the operand's layout), a call of a
private function taking memrefs, and the result buffer back as a tensor (`to_tensor restrict`).
The private function (one per collective, dtype, reduction and root, added to the module once) takes
the buffers' aligned pointers and calls MPI_* with the communicator, datatype and op handles of
the loaded MPI (support.mpi.abi: read from mpi4py, so MPICH's integer handles and Open MPI's
pointers both work). Passing memrefs, not pointers, to that function keeps the buffers alive
(for the deallocation pipeline) until the call returns. A gather or scatter along an axis other
than 0 is a transpose to axis 0 and back around the MPI call, which works on leading blocks."""

import math

from tgraph.support import mpi
from tgraph.support.errors import TGraphError
from tgraph.dialect import element_type
from tgraph.support.mlir import arith, bufferization, func, ir, linalg, memref, shard
from tgraph.support.symbols import module_of

from .builders import empty, generic, identity_map, reshape, scalar, spec, tensor_of
from .shape import _transpose

MAX_COUNT = 2 ** 31 - 1  # MPI counts are C ints

_CALLS = {
    # collective -> its MPI call in the wrapper: `@callee(arguments) : (argument types)`; %a and %b are
    # the two buffers' pointers, %n and %m their element counts
    "all_reduce": "@MPI_Allreduce(%in_place, %a, %n, %dtype, %op, %comm) : (!llvm.ptr, !llvm.ptr, i32, {h}, {h}, {h})",
    "broadcast": "@MPI_Bcast(%a, %n, %dtype, %root, %comm) : (!llvm.ptr, i32, {h}, i32, {h})",
    "all_gather": "@MPI_Allgather(%a, %n, %dtype, %b, %n, %dtype, %comm) : (!llvm.ptr, i32, {h}, !llvm.ptr, i32, {h}, {h})",
    "reduce_scatter": "@MPI_Reduce_scatter_block(%a, %b, %m, %dtype, %op, %comm) : (!llvm.ptr, !llvm.ptr, i32, {h}, {h}, {h})",
    "reduce_to_root": "@MPI_Reduce(%a, %b, %n, %dtype, %op, %root, %comm) : (!llvm.ptr, !llvm.ptr, i32, {h}, {h}, i32, {h})",
}

_WRAPPER = """
func.func private @"{name}"(%abuf: memref<?x{t}>, %bbuf: memref<?x{t}>) {{
  %c0 = arith.constant 0 : index
  %na = memref.dim %abuf, %c0 : memref<?x{t}>
  %nb = memref.dim %bbuf, %c0 : memref<?x{t}>
  %n = arith.index_cast %na : index to i32
  %m = arith.index_cast %nb : index to i32
  %pa = memref.extract_aligned_pointer_as_index %abuf : memref<?x{t}> -> index
  %pb = memref.extract_aligned_pointer_as_index %bbuf : memref<?x{t}> -> index
  %ia = arith.index_cast %pa : index to i64
  %ib = arith.index_cast %pb : index to i64
  %a = llvm.inttoptr %ia : i64 to !llvm.ptr
  %b = llvm.inttoptr %ib : i64 to !llvm.ptr
  %in_place_address = llvm.mlir.constant({in_place} : i64) : i64
  %in_place = llvm.inttoptr %in_place_address : i64 to !llvm.ptr
  %dtype = arith.constant {dtype} : {h}
  %op = arith.constant {op} : {h}
  %comm = arith.constant {comm} : {h}
  %root = arith.constant {root} : i32
  %rc = llvm.call {call} -> i32
  return
}}
llvm.func {declaration}
"""


def _wrapper(name, collective, dtype, reduction="sum", root=0):
    """The private function @name(a, b) calling the MPI collective (added to the module once)."""
    module = _module_of_insertion_point()
    table = ir.SymbolTable(module)
    if name in table:
        return
    abi = mpi.abi()
    h = f"i{abi['handle_bits']}"
    call = _CALLS[collective].format(h=h)
    callee, signature = call.split("(", 1)[0], call.split(" : ")[1]
    text = _WRAPPER.format(name=name, t=dtype, in_place=abi["in_place"], dtype=abi["dtypes"][dtype],
                           op=abi["ops"][reduction], comm=abi["comm"], root=root, h=h, call=call,
                           declaration=f"{callee}{signature} -> i32")
    body = module.regions[0].blocks[0]
    parsed = ir.Module.parse(text)
    for op in list(parsed.body.operations):
        if ir.StringAttr(op.attributes["sym_name"]).value not in table:
            body.append(op.detach_from_parent())
            table = ir.SymbolTable(module)


def _module_of_insertion_point():
    return module_of(ir.InsertionPoint.current.block.owner)


def _flat_buffer(x):
    """A fresh contiguous 1-D buffer holding x's elements (copied), as memref<?xT>."""
    s = spec(x)
    flat = reshape(x, (s.size,))
    element = element_type(s.dtype)
    source_type = ir.MemRefType.get([s.size], element, layout=ir.StridedLayoutAttr.get(
        offset=ir.ShapedType.get_dynamic_stride_or_offset(), strides=[ir.ShapedType.get_dynamic_stride_or_offset()]))
    source = bufferization.to_buffer(source_type, flat, read_only=True)
    buffer = memref.alloc(ir.MemRefType.get([s.size], element), [], [])
    memref.copy(source, buffer)
    return buffer


def _new_buffer(size, dtype, zero=False):
    buffer = memref.alloc(ir.MemRefType.get([size], element_type(dtype)), [], [])
    if zero:
        linalg.fill(scalar(0, dtype), outs=[buffer])
    return buffer


def _dynamic(buffer):
    t = ir.MemRefType(buffer.type)
    return memref.cast(ir.MemRefType.get([ir.ShapedType.get_dynamic_size()], t.element_type), buffer)


def _as_tensor(buffer, shape, dtype):
    size = ir.MemRefType(buffer.type).shape[0]
    flat = bufferization.to_tensor(tensor_of((size,), dtype), buffer, restrict=True, writable=True)
    return reshape(flat, shape)


def _call(name, a, b):
    func.call([], name, [_dynamic(a), _dynamic(b)])


def _check(x, ranks, what):
    s = spec(x)
    if s.size > MAX_COUNT:
        raise TGraphError(f"tg.{what}: {s} has {s.size} elements, more than an MPI count holds (2^31 - 1)")
    mpi.check_size(ranks, f"tg.{what}")
    return s


def _name(what, dtype, *details):
    return ".".join(("tgraph.mpi", what, dtype) + tuple(str(d) for d in details))


def _leading(x, axis):
    """x with `axis` moved to the front (a copy when it moves)."""
    s = spec(x)
    if axis == 0:
        return x
    order = [axis] + [d for d in range(s.rank) if d != axis]
    return _transpose(type(s)(tuple(s.shape[d] for d in order), s.dtype), x, order)


def _back(x, axis):
    """The inverse of _leading."""
    s = spec(x)
    if axis == 0:
        return x
    order = list(range(1, axis + 1)) + [0] + list(range(axis + 1, s.rank))
    return _transpose(type(s)(tuple(s.shape[d] for d in order), s.dtype), x, order)


def _collective(what, x, ranks, axis=0, rows=None, in_place=False, zero=False, reduction="sum", root=0, details=()):
    """x (its `axis` leading) copied to a contiguous buffer, the MPI call, the result as a tensor:
    in the same buffer (`in_place`), else in a new one whose leading dimension has rows(n) rows
    (zero-filled first when `zero`)."""
    s = _check(x, ranks, what)
    if ranks == 1:
        return x
    lead = _leading(x, axis)
    send = _flat_buffer(lead)
    shape = spec(lead).shape
    out_shape = shape if rows is None else (rows(shape[0]),) + shape[1:]
    result = send if in_place else _new_buffer(math.prod(out_shape), s.dtype, zero)
    name = _name(what, s.dtype, *details)
    _wrapper(name, what, s.dtype, reduction, root)
    _call(name, send, result)
    return _back(_as_tensor(result, out_shape, s.dtype), axis)


def _all_reduce(out, x, op, ranks):
    result = _collective("all_reduce", x, ranks, in_place=True, reduction="sum" if op == "mean" else op, details=(op,))
    if op != "mean" or ranks == 1:
        return result
    s, scale = spec(x), scalar(1.0 / ranks, spec(x).dtype)
    return generic([result], [identity_map(s.rank)], empty(s.shape, s.dtype), identity_map(s.rank),
                   ["parallel"] * s.rank, lambda value, _: arith.mulf(value, scale))


def grid_name(grid):
    return "tgraph_grid_" + "x".join(map(str, grid))


def _shard(out, x, grid, axes):
    """shard.shard annotations (the value's sharding, and the same for its users) over the grid
    @tgraph_grid_<shape> (added to the module once): tg-partition-shards then partitions the function."""
    module = _module_of_insertion_point()
    name = grid_name(grid)
    if name not in ir.SymbolTable(module):
        with ir.InsertionPoint.at_block_begin(module.regions[0].blocks[0]):
            shard.GridOp(name, list(grid))
    split = ", ".join("[]" if a == -1 else f"[{a}]" for a in axes)
    sharding = shard.ShardingOp(name, ir.Attribute.parse(f"#shard<axisarray[{split}]>"), [], []).result
    annotated = shard.ShardOp(x, sharding).result
    return shard.ShardOp(annotated, sharding, annotate_for_users=True).result


RULES = {
    "shard": _shard,
    "all_reduce": _all_reduce,
    "all_gather": lambda out, x, axis, ranks: _collective("all_gather", x, ranks, axis, rows=lambda n: n * ranks),
    "reduce_scatter": lambda out, x, axis, ranks: _collective("reduce_scatter", x, ranks, axis,
                                                              rows=lambda n: n // ranks),
    "broadcast": lambda out, x, root, ranks: _collective("broadcast", x, ranks, in_place=True, root=root,
                                                         details=(root,)),
    # MPI_Reduce leaves the other ranks' buffer as it is: zeros there
    "reduce_to_root": lambda out, x, root, ranks: _collective("reduce_to_root", x, ranks, zero=True, root=root,
                                                              details=(root,)),
}
