// RUN: tgraph-opt %s --tg-generate-adjoint="func=rnn unit-seed=true" --tg-simplify --canonicalize --cse | filecheck %s
// RUN: tgraph-opt %s --tg-generate-tangent="func=rnn" --canonicalize --cse | filecheck %s --check-prefix=TANGENT

// Reverse mode through a scan (an scf.for whose body reads row i of %xs and writes row i of the
// stacked ys). The primal loop also stacks the carry %h into a tape (not the ys stack: the body
// only writes it); the reverse loop runs the steps backwards, reads step k's carry from the tape,
// recomputes the step and runs its reverse sweep. The cotangent of %xs accumulates row by row
// (gather + add + set_row at the step's row), the one of %w by add.
// CHECK-LABEL: func.func @rnn_grad
// CHECK: %[[TAPE0:.*]] = "tg.splat"() {{.*}}shape = array<i64: 5, 2, 3>
// CHECK: %[[FWD:.*]]:3 = scf.for {{.*}} iter_args(%[[H:.*]] = %arg0, %[[YS:.*]] = %{{.*}}, %[[TAPE:.*]] = %[[TAPE0]])
// CHECK: "tg.set_row"(%[[TAPE]], %[[H]], %{{.*}})
// CHECK: scf.yield
// CHECK: %[[REV:.*]]:4 = scf.for
// CHECK: arith.subi
// CHECK: %[[CARRY:.*]] = "tg.gather"(%[[FWD]]#2, %{{.*}})
// CHECK: "tg.dot_general"(%[[CARRY]], %arg1)
// CHECK: "tg.tanh"
// CHECK: "tg.set_row"
// CHECK: scf.yield
// CHECK: return %[[REV]]#0, %[[REV]]#3, %[[REV]]#2

// Forward mode: the tangent loop carries (primal, tangent) for h and the ys.
// TANGENT-LABEL: func.func @rnn_jvp
// TANGENT: scf.for {{.*}} -> (tensor<2x3xf64>, tensor<5x2xf64>, tensor<2x3xf64>, tensor<5x2xf64>)
// TANGENT: "tg.tanh"
// TANGENT: scf.yield
func.func @rnn(%h0: tensor<2x3xf64>, %w: tensor<3x3xf64>, %xs: tensor<5x2x3xf64>) -> tensor<f64> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5 = arith.constant 5 : index
  %zeros = "tg.splat"() {dtype = f64, shape = array<i64: 5, 2>, value = 0.0 : f64} : () -> tensor<5x2xf64>
  %r:2 = scf.for %i = %c0 to %c5 step %c1 iter_args(%h = %h0, %ys = %zeros) -> (tensor<2x3xf64>, tensor<5x2xf64>) {
    %k = arith.index_cast %i : index to i32
    %at = tensor.from_elements %k : tensor<i32>
    %x = "tg.gather"(%xs, %at) : (tensor<5x2x3xf64>, tensor<i32>) -> tensor<2x3xf64>
    %m = "tg.dot_general"(%h, %w) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>} : (tensor<2x3xf64>, tensor<3x3xf64>) -> tensor<2x3xf64>
    %s = "tg.add"(%m, %x) : (tensor<2x3xf64>, tensor<2x3xf64>) -> tensor<2x3xf64>
    %n = "tg.tanh"(%s) : (tensor<2x3xf64>) -> tensor<2x3xf64>
    %y = "tg.reduce_sum"(%n) {axes = array<i64: 1>} : (tensor<2x3xf64>) -> tensor<2xf64>
    %ys2 = "tg.set_row"(%ys, %y, %at) : (tensor<5x2xf64>, tensor<2xf64>, tensor<i32>) -> tensor<5x2xf64>
    scf.yield %n, %ys2 : tensor<2x3xf64>, tensor<5x2xf64>
  }
  %a = "tg.reduce_sum"(%r#0) {axes = array<i64: 0, 1>} : (tensor<2x3xf64>) -> tensor<f64>
  %b = "tg.reduce_sum"(%r#1) {axes = array<i64: 0, 1>} : (tensor<5x2xf64>) -> tensor<f64>
  %t = "tg.add"(%a, %b) : (tensor<f64>, tensor<f64>) -> tensor<f64>
  return %t : tensor<f64>
}
