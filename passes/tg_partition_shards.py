"""tg-partition-shards: a function whose values carry `shard.shard` annotations (tg.shard, lowered)
becomes the code one process of the grid runs: upstream's sharding-propagation and shard-partition
give each process its blocks (the function's arguments and results become local blocks) and
insert the collectives the computation needs, convert-shard-to-mpi turns them into `mpi` ops
(lowered later by convert-to-llvm's MPI patterns, MPICH's ABI). Without annotations: nothing."""

import dataclasses

from tgraph.support.mlir import ir, passmanager, shard
from tgraph.support.symbols import functions

from .base import ModulePass, PassFailure, collect_ops
from .pipeline import register_pass

UPSTREAM = "builtin.module(func.func(sharding-propagation), func.func(shard-partition), convert-shard-to-mpi, canonicalize)"


@register_pass
@dataclasses.dataclass
class PartitionShards(ModulePass):
    name = "tg-partition-shards"
    summary = "shard-annotated functions -> each process's code with MPI collectives (upstream's shard passes)"

    def run(self, module):
        annotations = collect_ops(module, lambda op: op.name == "shard.shard")
        if not annotations:
            return
        for op in annotations:
            _sole_user_of_its_argument(op)
        _annotate_results(module, annotations[0])
        try:
            passmanager.PassManager.parse(UPSTREAM, module.context).run(module)
        except Exception as err:  # noqa: BLE001 - upstream's diagnostics, as this pass's failure
            raise PassFailure(f"partitioning the sharded function failed: {err}", module.location) from None
        for grid in collect_ops(module, lambda op: op.name == "shard.grid"):
            grid.erase()  # its users (collectives) are MPI calls now


def _sole_user_of_its_argument(op):
    """shard-partition wants an annotated function argument to have the annotation as its only
    user, and every other user to read it through an annotation for users. tg.shard lowers to
    both (the value's sharding, then the same for its users): the argument's other users are
    given the second one's result, the pair (and its sharding) moved to the top of the function."""
    value = op.operands[0]
    if not isinstance(value, ir.BlockArgument) or "annotate_for_users" in op.attributes:
        return
    others = [use for use in value.uses if use.owner != op]
    for_users = [use.owner for use in op.results[0].uses
                 if use.owner.name == "shard.shard" and "annotate_for_users" in use.owner.attributes]
    if not others or not for_users:
        return
    sharding = op.operands[1].owner
    sharding.move_before(value.owner.operations[0])
    op.move_after(sharding)
    for_users[0].move_after(op)
    for use in others:
        use.owner.operands[use.operand_number] = for_users[0].results[0]


def _annotate_results(module, annotation):
    """shard-partition wants every returned value of a sharded function annotated for its users: a
    result without one is returned whole (replicated over the grid of the first annotation)."""
    grid = ir.FlatSymbolRefAttr(annotation.operands[1].owner.attributes["grid"]).value
    for fop in functions(module):
        if not collect_ops(fop.operation, lambda op: op.name == "shard.shard"):
            continue
        block = fop.regions[0].blocks[0]
        ret = block.operations[len(block.operations) - 1]
        for k, value in enumerate(ret.operands):
            owner = value.owner
            if getattr(owner, "name", None) == "shard.shard" and "annotate_for_users" in owner.attributes:
                continue
            with ir.InsertionPoint(ret), ret.location:
                whole = shard.ShardingOp(grid, ir.Attribute.parse("#shard<axisarray[[]]>"), [], []).result
                ret.operands[k] = shard.ShardOp(value, whole, annotate_for_users=True).result
