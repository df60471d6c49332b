"""tg-map-to-gpu: each block loop of tg-gpu-kernels -> a gpu.launch, its thread loops -> thread
ids, with a barrier after each (tg-plan-gpu-mapping's script, applied by transform-interpreter)."""

import dataclasses

from ..base import ModulePass
from ..pipeline import register_pass


@register_pass
@dataclasses.dataclass
class MapToGpu(ModulePass):
    name = "tg-map-to-gpu"
    summary = "each block loop -> a gpu.launch; its thread loops -> thread ids, with a barrier after each"
    is_pipeline = True

    def pipeline(self):
        return "tg-plan-gpu-mapping, transform-interpreter, tg-erase-transform-scripts"
