# The builders emit tg IR: an MLP with softmax cross-entropy, numpy broadcasting, composites.
# RUN: %PYTHON %s | filecheck %s

import numpy as np

import tgraph as tg


def run(f):
    print("\nTEST:", f.__name__)
    f()
    return f


# CHECK-LABEL: TEST: mlp_loss
# CHECK: func.func @loss(%arg0: tensor<4x8xf32>, %arg1: tensor<8x16xf32>, %arg2: tensor<16xf32>, %arg3: tensor<16x3xf32>, %arg4: tensor<3xf32>, %arg5: tensor<4xi32>) -> tensor<f32>
# CHECK: %[[H:.*]] = "tg.dot_general"(%arg0, %arg1) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<4x8xf32>, tensor<8x16xf32>) -> tensor<4x16xf32>
# CHECK: %[[B:.*]] = "tg.broadcast_in_dim"(%arg2) {dims = array<i64: 1>, shape = array<i64: 4, 16>}
# CHECK: %[[Z:.*]] = "tg.add"(%[[H]], %[[B]])
# CHECK: "tg.relu"(%[[Z]])
# CHECK: "tg.compare"({{.*}}) {direction = "eq"} : (tensor<4x3xi32>, tensor<4x3xi32>) -> tensor<4x3xi1>
# CHECK: "tg.reduce_max"
# CHECK: "tg.stop_gradient"
# CHECK: "tg.exp"
# CHECK: "tg.log"
# CHECK: "tg.div"
# CHECK: return {{.*}} : tensor<f32>
@run
def mlp_loss():
    def loss(x, w1, b1, w2, b2, labels):
        return tg.cross_entropy(tg.relu(x @ w1 + b1) @ w2 + b2, labels)

    g = tg.trace(loss, [tg.f32[4, 8], tg.f32[8, 16], tg.f32[16], tg.f32[16, 3], tg.f32[3], tg.i32[4]])
    assert g.module.operation.verify()
    print(g)


# CHECK-LABEL: TEST: scalars_take_the_tensor_type
# CHECK: "tg.splat"() {dtype = f64, shape = array<i64: 2, 2>, value = 3.000000e+00 : f64} : () -> tensor<2x2xf64>
# CHECK-NEXT: "tg.mul"
# CHECK-NOT: "tg.splat"
@run
def scalars_take_the_tensor_type():
    print(tg.trace(lambda x: x * 3, [tg.f64[2, 2]]))


# CHECK-LABEL: TEST: slicing
# CHECK: "tg.slice"(%arg0) {limit = array<i64: 3, 5>, start = array<i64: 1, 0>, stride = array<i64: 1, 2>} : (tensor<4x5xf32>) -> tensor<2x3xf32>
@run
def slicing():
    print(tg.trace(lambda x: x[1:3, ::2], [tg.f32[4, 5]]))


# CHECK-LABEL: TEST: locations_point_at_user_code
# CHECK: "tg.tanh"(%arg0) : (tensor<3xf32>) -> tensor<3xf32> loc([[LOC:#loc[0-9]*]])
@run
def locations_point_at_user_code():
    g = tg.trace(lambda x: tg.tanh(x), [tg.f32[3]])  # CHECK: [[LOC]] = loc("{{.*}}mlp.py":[[# @LINE]]:28)
    print(g.ir(debug_info=True))
