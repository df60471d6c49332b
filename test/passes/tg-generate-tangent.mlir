// RUN: tgraph-opt %s --tg-generate-tangent=func=f | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-tangent{func=f wrt=1 out=df}, canonicalize, cse)' | filecheck %s --check-prefix=WRT
// RUN: not tgraph-opt %s --tg-generate-tangent=func=g 2>&1 | filecheck %s --check-prefix=ERR

// The tangent is computed alongside the primal: (x, w, dx, dw) -> (y, dy), with
// d tanh = (1 - tanh^2) * d(x*w) and d(x*w) = dx*w + x*dw.
// CHECK-LABEL: func.func @f_jvp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<3xf32>, %arg3: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[P:.*]] = "tg.mul"(%arg0, %arg1)
// CHECK: %[[A:.*]] = "tg.mul"(%arg1, %arg2)
// CHECK: %[[B:.*]] = "tg.mul"(%arg0, %arg3)
// CHECK: %[[DP:.*]] = "tg.add"(%[[A]], %[[B]])
// CHECK: %[[Y:.*]] = "tg.tanh"(%[[P]])
// CHECK: "tg.mul"(%[[Y]], %[[Y]])
// CHECK: return %[[Y]], %{{.*}} : tensor<3xf32>, tensor<3xf32>

// With wrt=1 only w has a tangent: x's zero tangent emits no arithmetic.
// WRT-LABEL: func.func @df(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>, %arg2: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// WRT: "tg.mul"(%arg0, %arg2)
// WRT-NOT: "tg.add"

// ERR: error: tg-generate-tangent: no function @g in the module (it has @f)
func.func @f(%x: tensor<3xf32>, %w: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.mul"(%x, %w) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.tanh"(%0) : (tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
