"""What the CPU codegen passes share: the attributes that tag planned ops, and the options that
describe the target (0: the host's, through support.target.CpuTarget)."""

import dataclasses

TAG = "tg.codegen"
# Every tagged op also carries this unit attribute: the script finds them all with one match (a
# walk of the module) and splits that handle, one handle per op. A match per tag walked the whole
# module once per op: quadratic in the graph's size.
PLANNED = "tg.planned"


def threads_option():
    return dataclasses.field(default=0, metadata={"help": "threads (0: the host's, TGRAPH_NUM_THREADS or every core)", "min": 0})


def vector_width_option():
    # The width stands for the f32 lanes of a vector register (4, 8 or 16 on the hosts tgraph
    # knows): a width that is not a power of two fits no vector unit.
    def zero_or_power_of_two(width):
        return width == 0 or (width > 0 and width & (width - 1) == 0)

    return dataclasses.field(default=0, metadata={"help": "f32 vector lanes (0: the host's, or TGRAPH_VECTOR_WIDTH)",
                                                  "check": (zero_or_power_of_two, "0 (from the host) or a power of two")})
