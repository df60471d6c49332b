// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-batch{func=f in-axes=-1,0 size=5})' | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-batch{func=f in-axes=0,1 out-axes=1 size=4 out=fb})' | filecheck %s --check-prefix=BOTH
// RUN: not tgraph-opt %s --pass-pipeline='builtin.module(tg-batch{func=f})' 2>&1 | filecheck %s --check-prefix=SIZE
// RUN: not tgraph-opt %s --pass-pipeline='builtin.module(tg-batch{func=loop size=2})' 2>&1 | filecheck %s --check-prefix=BOUNDS

// Per-example x against a shared w: the batch is a free dimension of x, so the product stays
// one (5x3)·(3x2) matmul; tanh is elementwise on the batched value.
// CHECK-LABEL: func.func @f_batched(%arg0: tensor<3x2xf64>, %arg1: tensor<5x3xf64>) -> tensor<5x2xf64>
// CHECK: %[[P:.*]] = "tg.dot_general"(%arg1, %arg0) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<5x3xf64>, tensor<3x2xf64>) -> tensor<5x2xf64>
// CHECK: %[[Y:.*]] = "tg.tanh"(%[[P]])
// CHECK: return %[[Y]] : tensor<5x2xf64>

// Both batched (x at axis 1, moved to the front): the batch joins the batch dimensions; the
// result is put at out-axes=1.
// BOTH-LABEL: func.func @fb(%arg0: tensor<4x3x2xf64>, %arg1: tensor<3x4xf64>) -> tensor<2x4xf64>
// BOTH: %[[X:.*]] = "tg.transpose"(%arg1) {permutation = array<i64: 1, 0>}
// BOTH: "tg.dot_general"(%[[X]], %arg0) {lhs_batch = array<i64: 0>, lhs_contract = array<i64: 1>, rhs_batch = array<i64: 0>, rhs_contract = array<i64: 1>} : (tensor<4x3xf64>, tensor<4x3x2xf64>) -> tensor<4x2xf64>
// BOTH: "tg.transpose"(%{{.*}}) {permutation = array<i64: 1, 0>} : (tensor<4x2xf64>) -> tensor<2x4xf64>

// SIZE: error: tg-batch: give the batch size (size=N)
func.func @f(%w: tensor<3x2xf64>, %x: tensor<3xf64>) -> tensor<2xf64> {
  %0 = "tg.dot_general"(%x, %w) {lhs_batch = array<i64>, rhs_batch = array<i64>, lhs_contract = array<i64: 0>, rhs_contract = array<i64: 0>} : (tensor<3xf64>, tensor<3x2xf64>) -> tensor<2xf64>
  %1 = "tg.tanh"(%0) : (tensor<2xf64>) -> tensor<2xf64>
  return %1 : tensor<2xf64>
}

// A loop whose trip count is read from a batched value has no batched form (while_loop's
// condition may differ per lane; a for loop's bounds may not).
// BOUNDS: tg-batch.mlir:[[# @LINE + 6]]:8: error: tg-batch: vmap of a loop whose bounds differ per lane is not supported
func.func @loop(%n: tensor<i32>, %x: tensor<f64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e = tensor.extract %n[] : tensor<i32>
  %u = arith.index_cast %e : i32 to index
  %r = scf.for %i = %c0 to %u step %c1 iter_args(%c = %x) -> (tensor<f64>) {
    %d = "tg.add"(%c, %c) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    scf.yield %d : tensor<f64>
  }
  return %r : tensor<f64>
}
