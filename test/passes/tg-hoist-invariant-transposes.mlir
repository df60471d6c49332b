// RUN: tgraph-opt %s --tg-hoist-invariant-transposes | filecheck %s

// dh @ w^T in a loop, w defined outside it: w is transposed once, before the loop, and the
// contraction reads the copy in memory order (rhs_contract 0).
// CHECK-LABEL: func.func @reverse_step
// CHECK: %[[WT:.*]] = "tg.transpose"(%arg1) {permutation = array<i64: 1, 0>}
// CHECK: scf.for
// CHECK: "tg.dot_general"(%{{.*}}, %[[WT]]) {{.*}}rhs_contract = array<i64: 0>
// A contraction over a value computed in the loop is left alone (its copy would be made every step).
// CHECK: "tg.dot_general"(%{{.*}}, %{{.*}}) {{.*}}rhs_contract = array<i64: 1>
// CHECK: scf.yield
// Outside any loop, the copy is made just before the contraction.
// CHECK: %[[WT2:.*]] = "tg.transpose"(%arg1) {permutation = array<i64: 1, 0>}
// CHECK-NEXT: "tg.dot_general"(%arg0, %[[WT2]]) {{.*}}rhs_contract = array<i64: 0>
func.func @reverse_step(%h0: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c9 = arith.constant 9 : index
  %r = scf.for %i = %c0 to %c9 step %c1 iter_args(%h = %h0) -> (tensor<4x8xf32>) {
    %n = "tg.dot_general"(%h, %w) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
    %s = "tg.tanh"(%n) : (tensor<4x8xf32>) -> tensor<4x8xf32>
    %m = "tg.dot_general"(%n, %s) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
    %k = "tg.dot_general"(%m, %n) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<4x4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    scf.yield %k : tensor<4x8xf32>
  }
  %o = "tg.dot_general"(%h0, %w) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 1>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %r, %o : tensor<4x8xf32>, tensor<4x8xf32>
}

// A^T B outside a loop (a weight gradient, h^T dy): the left operand is transposed (lhs_contract 1).
// CHECK-LABEL: func.func @weight_gradient
// CHECK: %[[HT:.*]] = "tg.transpose"(%arg0) {permutation = array<i64: 1, 0>}
// CHECK-NEXT: "tg.dot_general"(%[[HT]], %arg1) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>
func.func @weight_gradient(%h: tensor<16x4xf32>, %dy: tensor<16x8xf32>) -> tensor<4x8xf32> {
  %g = "tg.dot_general"(%h, %dy) {lhs_batch = array<i64>, lhs_contract = array<i64: 0>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<16x4xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  return %g : tensor<4x8xf32>
}
