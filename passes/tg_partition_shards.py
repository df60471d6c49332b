"""tg-partition-shards: a function whose values carry `shard.shard` annotations (tg.shard, lowered)
becomes the code one process of the grid runs: upstream's sharding-propagation and shard-partition
give each process its blocks (the function's arguments and results become local blocks) and
insert the collectives the computation needs, convert-shard-to-mpi turns them into `mpi` ops
(lowered later by convert-to-llvm's MPI patterns, MPICH's ABI). Without annotations: nothing."""

import dataclasses

from tgraph.support.mlir import passmanager

from .base import ModulePass, PassFailure, collect_ops
from .pipeline import register_pass

UPSTREAM = "builtin.module(func.func(sharding-propagation), func.func(shard-partition), convert-shard-to-mpi, canonicalize)"


@register_pass
@dataclasses.dataclass
class PartitionShards(ModulePass):
    name = "tg-partition-shards"
    summary = "shard-annotated functions -> each process's code with MPI collectives (upstream's shard passes)"

    def run(self, module):
        if not collect_ops(module, lambda op: op.name == "shard.shard"):
            return
        try:
            passmanager.PassManager.parse(UPSTREAM, module.context).run(module)
        except Exception as err:  # noqa: BLE001 - upstream's diagnostics, as this pass's failure
            raise PassFailure(f"partitioning the sharded function failed: {err}", module.location) from None
        for grid in collect_ops(module, lambda op: op.name == "shard.grid"):
            grid.erase()  # its users (collectives) are MPI calls now
