// RUN: tgraph-opt %s --tg-distinct-results | filecheck %s
// RUN: tgraph-opt %s --tg-cpu-pipeline | filecheck %s --check-prefix=LLVM

// A value returned twice, an argument and a constant: each later result is a copy of its own
// (buffer-results-to-out-params crashed on `return %0, %0`).
// CHECK-LABEL: func.func @f
// CHECK: %[[T:.*]] = "tg.tanh"
// CHECK: %[[E1:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[C1:.*]] = linalg.copy {{.*}}ins(%[[T]] : tensor<4xf32>) outs(%[[E1]] : tensor<4xf32>)
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[C2:.*]] = linalg.copy {{.*}}ins(%arg0 : tensor<4xf32>) outs(%[[E2]] : tensor<4xf32>)
// CHECK: %[[C3:.*]] = linalg.copy {{.*}}ins(%cst
// CHECK: return %[[T]], %[[C1]], %[[C2]], %[[C3]]
// LLVM-LABEL: llvm.func @_mlir_ciface_f(
func.func @f(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %0 = "tg.tanh"(%x) : (tensor<4xf32>) -> tensor<4xf32>
  %c = arith.constant dense<1.0> : tensor<4xf32>
  return %0, %0, %x, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
