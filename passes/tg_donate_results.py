"""tg-donate-results: results computed into the buffers of donated arguments (jit's donate_argnums).

For each pair `i:k` of `pairs`, result k of @func is returned through
`bufferization.materialize_in_destination` into argument i, which is marked writable. One-Shot
Bufferize then computes the result in argument i's buffer where nothing reads the argument's old
value afterwards, and copies it there at the end where something does: in place when it is safe,
correct either way (run eliminate-empty-tensors first, so the ops producing the result write
into the destination instead of a fresh tensor). tg-drop-donated-results then removes those
results: the caller's argument array holds them."""

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
