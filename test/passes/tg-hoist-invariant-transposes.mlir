// RUN: tgraph-opt %s --tg-hoist-invariant-transposes | filecheck %s

// dh @ w^T in a loop, w defined outside it: w is transposed once, before the loop, and the
// contraction reads the copy in memory order (rhs_contract 0).
// CHECK-LABEL: func.func @reverse_step
// CHECK: %[[WT:.*]] = "tg.transpose"(%arg1) {permutation = array<i64: 1, 0>}
// CHECK: scf.for
// CHECK: "tg.dot_general"(%{{.*}}, %[[WT]]) {{.*}}rhs_contract = array<i64: 0>
// A contraction outside any loop, or over a value of the loop, is left alone.
// CHECK: "tg.dot_general"(%{{.*}}, %arg1) {{.*}}rhs_contract = array<i64: 1>
func.func @reverse_step(%h0: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %r = scf.for %i = %c0 to %c9 step %c1 iter_args(%h = %h0) -> (tensor<4x8xf32>) {
    %n = "tg.dot_general"(%h, %w) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    scf.yield %n : tensor<4x8xf32>
  }
  %o = "tg.dot_general"(%h0, %w) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %r, %o : tensor<4x8xf32>, tensor<4x8xf32>
}
