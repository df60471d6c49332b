"""tg-fuse-elementwise-chains: each group of elementwise linalg.generic ops whose every producer
is used only inside the group becomes one linalg.generic, built in one go.

Upstream's linalg-fuse-elementwise-ops fuses the same ops (a producer with one use; uses by one
consumer become one when it deduplicates its operands), but one pair at a time, each fusion copying the whole body fused so far: a chain of n ops costs n^2/2 op
copies (13 s of a 2,000-op chain's gradient). Run before it, this pass leaves it only the fusions
it does not cover (broadcasts, transposes, reshapes, reductions), and copies each op once.

Covered: all-parallel generics with one result and identity indexing maps over the same loops,
bodies without regions, a producer that reads no output value. The fused op reads each outside
value once (its first use fixes the order), writes the root's output, and computes the members'
bodies in program order (producers come first), then the root's."""

import collections
import dataclasses

from tgraph.support.mlir import ir, linalg
from tgraph.support.symbols import functions

from .base import ModulePass
from .pipeline import register_pass


def _elementwise(op):
    """An all-parallel linalg.generic with one result and identity maps, body without regions."""
    if op.name != "linalg.generic" or len(op.results) != 1:
        return False
    if any(str(k) != "#linalg.iterator_type<parallel>" for k in ir.ArrayAttr(op.attributes["iterator_types"])):
        return False
    rank = len(ir.ArrayAttr(op.attributes["iterator_types"]))
    identity = ir.AffineMap.get_identity(rank)
    if any(ir.AffineMapAttr(m).value != identity for m in ir.ArrayAttr(op.attributes["indexing_maps"])):
        return False
    return all(len(body_op.regions) == 0 for body_op in op.regions[0].blocks[0].operations)


def _producer(value, position):
    """The elementwise op of the block (`position`: its ops) defining `value`, when that op reads
    no output value (what it computes depends on its inputs alone)."""
    if not isinstance(value, ir.OpResult):
        return None
    op = value.owner.operation
    if op not in position or not _elementwise(op):
        return None
    body = op.regions[0].blocks[0]
    if list(body.arguments[len(op.operands) - 1].uses):
        return None
    return op


def _loops(op):
    return len(ir.ArrayAttr(op.attributes["iterator_types"]))


def _fuse(root, members, position):
    """Replace `root` and its fused producers `members` by one linalg.generic."""
    group = sorted(members, key=position.get) + [root]
    in_group = {op: i for i, op in enumerate(group)}
    outside = {}  # value -> index among the fused op's inputs, in order of first use
    for op in group:
        for value in list(op.operands)[:len(op.operands) - 1]:
            producer = value.owner.operation if isinstance(value, ir.OpResult) else None
            if producer not in in_group and value not in outside:
                outside[value] = len(outside)
    inputs = list(outside)
    init = root.operands[len(root.operands) - 1]
    rank = _loops(root)
    identity = ir.AffineMapAttr.get(ir.AffineMap.get_identity(rank))
    with root.location, ir.InsertionPoint(root):
        fused = linalg.GenericOp([root.results[0].type], inputs, [init],
                                 ir.ArrayAttr.get([identity] * (len(inputs) + 1)),
                                 root.attributes["iterator_types"])
    element = [ir.ShapedType(v.type).element_type for v in inputs + [init]]
    block = fused.regions[0].blocks.append(*element, arg_locs=[root.location] * len(element))
    yielded = {}  # group op -> the fused body's value of its result
    mapping = {}
    for op in group:
        body = op.regions[0].blocks[0]
        operands = list(op.operands)
        for arg, value in zip(body.arguments, operands[:-1]):
            producer = value.owner.operation if isinstance(value, ir.OpResult) else None
            mapping[arg] = yielded[producer] if producer in in_group else block.arguments[outside[value]]
        mapping[body.arguments[len(operands) - 1]] = block.arguments[len(inputs)]
        with ir.InsertionPoint(block):
            for body_op in body.operations:
                if body_op.name == "linalg.yield":
                    yielded[op] = mapping.get(body_op.operands[0], body_op.operands[0])
                    continue
                clone = body_op.operation.clone()
                for i, value in enumerate(body_op.operands):
                    if value in mapping:
                        clone.operands[i] = mapping[value]
                for old, new in zip(body_op.results, clone.results):
                    mapping[old] = new
    with ir.InsertionPoint(block), root.location:
        linalg.YieldOp([yielded[root]])
    root.results[0].replace_all_uses_with(fused.results[0])
    for op in reversed(group):  # consumers first: an op is erased after its last use
        op.erase()


@register_pass
@dataclasses.dataclass
class FuseElementwiseChains(ModulePass):
    name = "tg-fuse-elementwise-chains"
    summary = "fuse groups of elementwise linalg.generic ops, each in one go (linear in the ops)"

    def run(self, module):
        for func in functions(module):
            if not func.regions[0].blocks:
                continue
            block = func.regions[0].blocks[0]
            ops = [op.operation for op in block.operations]
            position = {op: i for i, op in enumerate(ops)}
            claimed, groups = set(), []
            for root in reversed(ops):  # a consumer before its producers: roots are the last ops of trees
                if root in claimed or not _elementwise(root):
                    continue
                claimed.add(root)
                members, work = [], [root]
                inside = collections.Counter()  # producer -> its uses by the group so far
                while work:
                    op = work.pop()
                    for value in list(op.operands)[:len(op.operands) - 1]:
                        producer = _producer(value, position)
                        if producer is None or producer in claimed or _loops(producer) != _loops(root):
                            continue
                        inside[producer] += 1
                        # Joins once the group holds all its uses (each operand is counted once).
                        if inside[producer] == len(list(value.uses)):
                            claimed.add(producer)
                            members.append(producer)
                            work.append(producer)
                if members:
                    groups.append((root, members))
            # Rewritten once every group is known: fusing erases ops that the search still holds.
            for root, members in groups:
                _fuse(root, members, position)
