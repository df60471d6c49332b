"""tg-donate-results: results computed into the buffers of donated arguments (jit's donate_argnums).

For each pair `i:k` of `pairs`, result k of @func is to end up in argument i, which is marked
writable; tg-drop-donated-results then removes those results after bufferization (the caller's
array holds them). Where the code producing the result has a shape this pass proves safe, the
result is placed in the argument itself: a vector written whole into an empty tensor; a nest of
scf.for loops over disjoint tiles (each offset a loop's induction variable stepping by the tile's
size, or 0 over a whole dimension); or a 1-D scf.forall whose threads own disjoint blocks of rows,
each with such a nest; all reading the argument only at the tile they write. The loops then start
from the argument and read their tiles from their own tensor (not yet overwritten there: the
tiles are disjoint), and One-Shot Bufferize writes in place. Elsewhere the result goes through
`bufferization.materialize_in_destination`, which copies it into the argument at the end.

Upstream's eliminate-empty-tensors would place every result, but One-Shot Bufferize then fails on
the codegen's tiled loops ("scf.for op not bufferizable: cannot avoid RaW conflict"), because the
materialize op writes the argument the loops already wrote."""

import dataclasses

from tgraph.support.mlir import _load, ir
from tgraph.support.symbols import lookup

from .base import ModulePass, PassFailure
from .pipeline import register_pass


def parse_pairs(text):
    """"0:1,2:3" -> ((0, 1), (2, 3)): (argument, result)."""
    pairs = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        argument, _, result = item.partition(":")
        if not (argument.isdigit() and result.isdigit()):
            raise PassFailure(f"pairs: expected argument:result indices, got {item!r}")
        pairs.append((int(argument), int(result)))
    return tuple(pairs)


def donated_function(module, name, pairs):
    """The func.func @name after checking that `pairs` fit its signature."""
    fop = lookup(module, name)
    if fop is None:
        raise PassFailure(f"no function @{name}")
    ftype = ir.FunctionType(ir.TypeAttr(fop.attributes["function_type"]).value)
    for argument, result in pairs:
        if argument >= len(ftype.inputs) or result >= len(ftype.results):
            raise PassFailure(f"@{name} has {len(ftype.inputs)} arguments and {len(ftype.results)} results; "
                              f"pair {argument}:{result} is out of range")
        if str(ftype.inputs[argument]) != str(ftype.results[result]):
            raise PassFailure(f"@{name}: argument {argument} ({ftype.inputs[argument]}) cannot hold result "
                              f"{result} ({ftype.results[result]})")
    if len({a for a, _ in pairs}) != len(pairs) or len({r for _, r in pairs}) != len(pairs):
        raise PassFailure(f"pairs {pairs}: each argument and each result may be donated once")
    return fop


def _op(value):
    owner = value.owner
    return None if isinstance(owner, ir.Block) else owner


def _constant_index(value):
    op = _op(value)
    if op is None or op.name != "arith.constant":
        return None
    return ir.IntegerAttr(op.attributes["value"]).value


def _uses_inside(value, region_op):
    """The ops using `value` that are nested in `region_op`."""
    found = []
    for use in value.uses:
        op = use.owner
        while op is not None and hasattr(op, "name") and op != region_op:
            op = op.parent
        if op is not None and hasattr(op, "name") and op == region_op:
            found.append(use.owner)
    return found


def _loop_nest(loop):
    """[(loop, its single iter_arg)] from `loop` inward, while each body yields an inner loop that
    starts from the outer one's iter_arg; None when a loop carries more than one value."""
    nest = []
    while True:
        if len(loop.operands) != 4:  # lower, upper, step, one init
            return None
        body = loop.regions[0].blocks[0]
        nest.append((loop, body.arguments[1]))
        yielded = _op(list(body.operations)[-1].operands[0])
        if yielded is None or yielded.name != "scf.for" or yielded.operands[3] != body.arguments[1]:
            return nest
        loop = yielded


def _tile_is_disjoint(insert, nest):
    """Each offset of the tile `insert` writes is a loop's induction variable with the tile's size
    as its step (from 0), or 0 over the whole dimension: different iterations write different tiles."""
    shape = ir.RankedTensorType(insert.results[0].type).shape
    static_offsets = ir.DenseI64ArrayAttr(insert.attributes["static_offsets"])
    static_sizes = ir.DenseI64ArrayAttr(insert.attributes["static_sizes"])
    static_strides = ir.DenseI64ArrayAttr(insert.attributes["static_strides"])
    dynamic = list(insert.operands)[2:]  # source, dest, then the dynamic offsets (sizes are static here)
    ivs = {loop.regions[0].blocks[0].arguments[0]: loop for loop, _ in nest}
    used, position = set(), 0
    if any(s != 1 for s in static_strides) or len(dynamic) != sum(o == ir.ShapedType.get_dynamic_size()
                                                                   for o in static_offsets):
        return False
    for dim, (offset, size) in enumerate(zip(static_offsets, static_sizes)):
        if offset == ir.ShapedType.get_dynamic_size():
            iv = dynamic[position]
            position += 1
            loop = ivs.get(iv)
            if loop is None or iv in used or _constant_index(loop.operands[0]) != 0 \
                    or _constant_index(loop.operands[2]) != size:
                return False
            used.add(iv)
        elif not (offset == 0 and size == shape[dim]):
            return False
    return True


_SAME_TILE = ("static_offsets", "static_sizes", "static_strides")


def _same_tile(read, write, write_offsets):
    """Whether extract_slice `read` takes exactly the tile that `write` (an insert) writes."""
    return (read.name == "tensor.extract_slice" and list(read.operands)[1:] == write_offsets
            and all(str(read.attributes[a]) == str(write.attributes[a]) for a in _SAME_TILE))


def _reads_own_tiles(loop, source):
    """A loop nest over disjoint tiles whose only reads of `source` are the tiles it writes, made to
    read them from its own tensor instead (they are not yet overwritten there); whether it was."""
    nest = _loop_nest(loop)
    if not nest:
        return False
    inner, carried = nest[-1]
    insert = _op(list(inner.regions[0].blocks[0].operations)[-1].operands[0])
    if insert is None or insert.name != "tensor.insert_slice" or insert.operands[1] != carried \
            or not _tile_is_disjoint(insert, nest):
        return False
    reads = _uses_inside(source, loop)
    if not all(read.parent == inner and _same_tile(read, insert, list(insert.operands)[2:]) for read in reads):
        return False
    for read in reads:
        read.operands[0] = carried
    return True


def _thread_blocks_are_disjoint(forall, insert):
    """A 1-D scf.forall whose thread t writes rows [t * S, (t + 1) * S) (S the block's size) of
    the shared tensor, and whole other dimensions."""
    block = forall.regions[0].blocks[0]
    offsets = list(insert.operands)[2:]
    static_offsets = list(ir.DenseI64ArrayAttr(insert.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(insert.attributes["static_sizes"]))
    shape = ir.RankedTensorType(insert.operands[1].type).shape
    if len(block.arguments) != 2 or len(offsets) != 1 or static_offsets[0] != ir.ShapedType.get_dynamic_size():
        return False
    if any(o != 0 or sz != n for o, sz, n in zip(static_offsets[1:], sizes[1:], shape[1:])):
        return False
    apply = _op(offsets[0])
    return (apply is not None and apply.name == "affine.apply" and list(apply.operands) == [block.arguments[0]]
            and str(ir.AffineMapAttr(apply.attributes["map"])).replace(" ", "") == f"affine_map<(d0)->(d0*{sizes[0]})>")


def _forall_in_place(forall, destination):
    """Threads each own a block of rows (scf.forall), and a loop nest in each block as above:
    the shared tensor starts from the argument, and each block reads its own tiles."""
    if len(forall.results) != 1:
        return False
    init = _op(forall.operands[len(forall.operands) - 1])
    block = forall.regions[0].blocks[0]
    shared = block.arguments[-1]
    terminator = list(block.operations)[-1]
    inserts = list(terminator.regions[0].blocks[0].operations)
    if init is None or init.name != "tensor.empty" or len(inserts) != 1:
        return False
    insert = inserts[0]
    if insert.name != "tensor.parallel_insert_slice" or insert.operands[1] != shared \
            or not _thread_blocks_are_disjoint(forall, insert):
        return False
    tile = list(insert.operands)[2:]
    inner = _op(insert.operands[0])
    start = _op(inner.operands[3]) if inner is not None and inner.name == "scf.for" else None
    if start is None or start.operands[0] != shared or not _same_tile(start, insert, tile):
        return False
    block_reads = _uses_inside(destination, forall)
    if len(block_reads) != 1 or block_reads[0].parent != forall or not _same_tile(block_reads[0], insert, tile):
        return False
    if not _reads_own_tiles(inner, block_reads[0].results[0]):
        return False
    forall.operands[len(forall.operands) - 1] = destination
    return True


def place_in_destination(value, destination):
    """Compute `value` into `destination` (a function argument) where that is provably safe;
    whether it did."""
    op = _op(value)
    if op is None:
        return False
    if op.name == "vector.transfer_write":  # one vector written into an empty tensor
        target = _op(op.operands[1])
        if target is not None and target.name == "tensor.empty":
            op.operands[1] = destination
            return True
        return False
    if op.name == "scf.forall":
        return _forall_in_place(op, destination)
    if op.name != "scf.for":
        return False
    init = _op(op.operands[3])
    if init is None or init.name != "tensor.empty" or not _reads_own_tiles(op, destination):
        return False
    op.operands[3] = destination
    return True


@dataclasses.dataclass
class DonationPass(ModulePass):
    """The options and checks tg-donate-results and tg-drop-donated-results share; each defines
    `donate(fop, pairs)`."""

    func: str = dataclasses.field(default="", metadata={"help": "the function whose arguments are donated"})
    pairs: str = dataclasses.field(default="", metadata={"help": "argument:result pairs, comma-separated"})

    def run(self, module):
        pairs = parse_pairs(self.pairs)
        if pairs:
            self.donate(donated_function(module, self.func, pairs), pairs)  # each pass's own rewrite


@register_pass
@dataclasses.dataclass
class DonateResults(DonationPass):
    name = "tg-donate-results"
    summary = "return results through the buffers of donated arguments (materialize_in_destination)"

    def donate(self, fop, pairs):
        bufferization = _load("dialects.bufferization")
        block = fop.regions[0].blocks[0]
        ret = list(block.operations)[-1]
        for argument, result in pairs:
            destination = block.arguments[argument]
            if place_in_destination(ret.operands[result], destination):
                continue  # bufferized in place into the (writable) argument; else copied there at the end
            with ir.InsertionPoint(ret), ret.location:
                placed = bufferization.MaterializeInDestinationOp(
                    destination.type, ret.operands[result], destination).result
            ret.operands[result] = placed
        attrs = (list(ir.ArrayAttr(fop.attributes["arg_attrs"])) if "arg_attrs" in fop.attributes
                 else [ir.DictAttr.get({})] * len(block.arguments))
        for argument, _ in pairs:
            entries = {n.name: n.attr for n in ir.DictAttr(attrs[argument])}
            entries["bufferization.writable"] = ir.BoolAttr.get(True)  # (the backends mark the others false)
            attrs[argument] = ir.DictAttr.get(entries)
        fop.attributes["arg_attrs"] = ir.ArrayAttr.get(attrs)
