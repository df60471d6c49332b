# A module written by the builders goes through tgraph-opt's AD passes, including the gradient of
# the gradient (reverse over reverse, and forward over reverse). Each generated function is placed
# right after the one it differentiates.
# RUN: %PYTHON %s > %t.mlir
# RUN: tgraph-opt %t.mlir --pass-pipeline='builtin.module(tg-generate-adjoint{func=cnn wrt=1,2 unit-seed=true}, tg-generate-tangent{func=cnn_grad wrt=1,2}, tg-generate-adjoint{func=cnn_grad wrt=1}, tg-simplify, canonicalize, cse)' | filecheck %s
import tgraph as tg


def cnn(x, kernel, w, labels):
    h = tg.max_pool2d(tg.relu(tg.conv2d(x, kernel, stride=2, padding=1)), 2)
    return tg.cross_entropy(h.reshape(h.shape[0], -1) @ w, labels)


print(tg.trace(cnn, [tg.f32[2, 1, 8, 8], tg.f32[3, 1, 3, 3], tg.f32[12, 5], tg.i32[2]]))

# CHECK-LABEL: func.func @cnn(
# CHECK-LABEL: func.func @cnn_grad(%arg0: tensor<2x1x8x8xf32>, %arg1: tensor<3x1x3x3xf32>, %arg2: tensor<12x5xf32>, %arg3: tensor<2xi32>) -> (tensor<3x1x3x3xf32>, tensor<12x5xf32>)
# The kernel's gradient is a convolution of the input (batch and channels swapped) by the output's
# cotangent, stride and dilation exchanged; the window positions past the kernel are sliced off.
# CHECK: %[[DK:.*]] = "tg.conv2d"(%{{.*}}, %{{.*}}) {groups = 1 : i64, lhs_dilation = array<i64: 1, 1>, padding = array<i64: 1, 1, 1, 1>, rhs_dilation = array<i64: 2, 2>, stride = array<i64: 1, 1>} : (tensor<1x2x8x8xf32>, tensor<3x2x4x4xf32>) -> tensor<1x3x4x4xf32>
# CHECK: %[[T:.*]] = "tg.transpose"(%[[DK]]) {permutation = array<i64: 1, 0, 2, 3>}
# CHECK: "tg.slice"(%[[T]]) {limit = array<i64: 3, 1, 3, 3>, start = array<i64: 0, 0, 0, 0>, stride = array<i64: 1, 1, 1, 1>} : (tensor<3x1x4x4xf32>) -> tensor<3x1x3x3xf32>
# CHECK-LABEL: func.func @cnn_grad_vjp(%arg0: tensor<2x1x8x8xf32>, %arg1: tensor<3x1x3x3xf32>, %arg2: tensor<12x5xf32>, %arg3: tensor<2xi32>, %arg4: tensor<3x1x3x3xf32>, %arg5: tensor<12x5xf32>) -> tensor<3x1x3x3xf32>
# CHECK-LABEL: func.func @cnn_grad_value_and_grad(
# CHECK-LABEL: func.func @cnn_grad_jvp(%arg0: tensor<2x1x8x8xf32>, %arg1: tensor<3x1x3x3xf32>, %arg2: tensor<12x5xf32>, %arg3: tensor<2xi32>, %arg4: tensor<3x1x3x3xf32>, %arg5: tensor<12x5xf32>) -> (tensor<3x1x3x3xf32>, tensor<12x5xf32>, tensor<3x1x3x3xf32>, tensor<12x5xf32>)
# CHECK-LABEL: func.func @cnn_value_and_grad(
