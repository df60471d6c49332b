// RUN: not tgraph-opt %s --tg-generate-adjoint 2>&1 | filecheck %s
// RUN: tgraph-opt %s --tg-generate-tangent | filecheck %s --check-prefix=TANGENT

// Reverse mode through a while loop needs a bound on its iterations (the tape's size): without
// `tg.max_iterations` it is a diagnostic at the loop that says what to pass. Forward mode needs none.
// CHECK: tg-generate-adjoint-unbounded-while.mlir:[[# @LINE + 7]]:8: error: tg-generate-adjoint: reverse mode through a while loop needs its number of iterations bounded: pass max_iterations=...
// TANGENT-LABEL: func.func @halve_jvp
// TANGENT: scf.while {{.*}} : (tensor<f64>, tensor<f64>) -> (tensor<f64>, tensor<f64>)
// TANGENT: scf.condition
// TANGENT: "tg.mul"
func.func @halve(%x: tensor<f64>) -> tensor<f64> {
  %half = "tg.splat"() {dtype = f64, shape = array<i64>, value = 0.5 : f64} : () -> tensor<f64>
  %r = scf.while (%v = %x) : (tensor<f64>) -> tensor<f64> {
    %one = "tg.splat"() {dtype = f64, shape = array<i64>, value = 1.0 : f64} : () -> tensor<f64>
    %big = "tg.compare"(%v, %one) {direction = "gt"} : (tensor<f64>, tensor<f64>) -> tensor<i1>
    %c = tensor.extract %big[] : tensor<i1>
    scf.condition(%c) %v : tensor<f64>
  } do {
  ^bb0(%v: tensor<f64>):
    %h = "tg.mul"(%v, %half) : (tensor<f64>, tensor<f64>) -> tensor<f64>
    scf.yield %h : tensor<f64>
  }
  return %r : tensor<f64>
}
