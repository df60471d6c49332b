"""tg-cpu-codegen: plan the CPU codegen strategies (tg-plan-cpu-codegen), apply their transform
script (upstream's transform-interpreter) and erase it (tg-erase-transform-scripts)."""

import dataclasses

from ..base import ModulePass
from ..pipeline import register_pass
from .common import threads_option, vector_width_option
from .tg_plan_cpu_codegen import PlanCpuCodegen


@register_pass
@dataclasses.dataclass
class CpuCodegen(ModulePass):
    name = "tg-cpu-codegen"
    summary = "plan, apply and erase the CPU codegen transform script"
    is_pipeline = True

    threads: int = threads_option()
    vector_width: int = vector_width_option()

    def pipeline(self):
        plan = PlanCpuCodegen(threads=self.threads, vector_width=self.vector_width).pipeline_text()
        return f"{plan}, transform-interpreter, tg-erase-transform-scripts"
