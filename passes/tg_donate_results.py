"""tg-donate-results: results computed into the buffers of donated arguments (jit's donate_argnums).

For each pair `i:k` of `pairs`, result k of @func is returned through
`bufferization.materialize_in_destination` into argument i, which is marked writable. One-Shot
Bufferize then computes the result in argument i's buffer where nothing reads the argument's old
value afterwards, and copies it there at the end where something does: in place when it is safe,
correct either way (run eliminate-empty-tensors first, so the ops producing the result write
into the destination instead of a fresh tensor). tg-drop-donated-results then removes those
results: the caller's argument array holds them.

Upstream's eliminate-empty-tensors, which would let bufferization compute in place, makes
One-Shot Bufferize fail on the codegen's tiled loops (they read the argument's tiles while the
loop writes the argument: "cannot avoid RaW conflict"). This pass places a result in its
argument itself where the code has the shape it can prove safe: a vector.transfer_write into an
empty tensor, or a nest of scf.for loops over disjoint tiles (each offset a loop's induction
variable stepping by the tile's size, or 0 over a whole dimension) that reads the argument only
at the tile it writes. There the loops start from the argument, read the tile from the loop's
own tensor (not yet overwritten: the tiles are disjoint), and bufferize in place. Elsewhere the
result is copied into the argument at the end."""

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
    if op.name != "scf.for":
        return False
    init = _op(op.operands[3])
    nest = _loop_nest(op)
    if init is None or init.name != "tensor.empty" or not nest:
        return False
    inner, carried = nest[-1]
    body = inner.regions[0].blocks[0]
    insert = _op(list(body.operations)[-1].operands[0])
    if insert is None or insert.name != "tensor.insert_slice" or insert.operands[1] != carried \
            or not _tile_is_disjoint(insert, nest):
        return False
    reads = _uses_inside(destination, op)
    same_tile = ("static_offsets", "static_sizes", "static_strides")
    for read in reads:  # only reads of the tile being written, in the innermost body
        if read.name != "tensor.extract_slice" or read.parent != inner \
                or any(str(read.attributes[a]) != str(insert.attributes[a]) for a in same_tile) \
                or list(read.operands)[1:] != list(insert.operands)[2:]:
            return False
    for read in reads:
        read.operands[0] = carried
    op.operands[3] = destination
    return True


@dataclasses.dataclass
class DonationPass(ModulePass):
    """The options tg-donate-results and tg-drop-donated-results share."""

    func: str = dataclasses.field(default="", metadata={"help": "the function whose arguments are donated"})
    pairs: str = dataclasses.field(default="", metadata={"help": "argument:result pairs, comma-separated"})

    def run(self, module):
        pairs = parse_pairs(self.pairs)
        if pairs:
            self.donate(donated_function(module, self.func, pairs), pairs)

    def donate(self, fop, pairs):
        raise NotImplementedError


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
