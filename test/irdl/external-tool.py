# External MLIR tools read tg modules through the generated IRDL file.
# REQUIRES: irdl-opt
# RUN: %PYTHON %s > %t.mlir
# RUN: %irdl-opt --irdl-file=%tg_irdl %t.mlir | filecheck %s

import tgraph as tg

# CHECK: func.func @net
# CHECK: "tg.conv2d"
# CHECK: "tg.max_pool2d"
# CHECK: "tg.reduce_sum"
g = tg.trace(lambda x, w: tg.max_pool2d(tg.relu(tg.conv2d(x, w, padding=1)), 2).sum(),
             [tg.f32[1, 2, 6, 6], tg.f32[4, 2, 3, 3]], name="net")
print(g)
