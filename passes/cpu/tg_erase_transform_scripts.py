"""tg-erase-transform-scripts: remove the transform scripts a planning pass appended (nested
modules with named sequences), once transform-interpreter has applied them, and the CPU codegen
tags (tg-cpu-codegen and tg-map-to-gpu end with it)."""

import dataclasses

from tgraph.support.mlir import ir

from ..base import ModulePass
from ..pipeline import register_pass
from .common import PLANNED, TAG


@register_pass
@dataclasses.dataclass
class EraseTransformScripts(ModulePass):
    name = "tg-erase-transform-scripts"
    summary = "remove transform scripts (nested modules with named sequences) and codegen tags"

    def run(self, module):
        for op in list(module.regions[0].blocks[0].operations):
            if op.operation.name == "builtin.module" and "transform.with_named_sequence" in op.operation.attributes:
                op.operation.erase()

        def untag(op):
            for name in (TAG, PLANNED):
                if name in op.attributes:
                    del op.attributes[name]
            return ir.WalkResult.ADVANCE

        module.walk(untag)
