// RUN: tgraph-opt --tg-import-stablehlo --split-input-file %s 2>&1 | filecheck %s

// StableHLO as jax.export writes it (a matmul, a fori_loop calling a private function, a sum):
// tg ops, the counting while as an scf.for carrying the counter, the call inlined, jax's
// attributes dropped.

// CHECK-LABEL: func.func public @main
// CHECK-NOT: stablehlo
// CHECK: "tg.dot_general"(%arg1, %arg0) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>}
// CHECK: "tg.tanh"
// CHECK: %[[C3:.*]] = arith.constant 3 : index
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[C3]] step %{{.*}} iter_args(%[[I:.*]] = %{{.*}}, %[[H:.*]] = %{{.*}}) -> (tensor<i32>, tensor<4x2xf32>)
// CHECK:   %[[HALF:.*]] = "tg.splat"() {dtype = f32, shape = array<i64: 4, 2>, value = 5.000000e-01 : f64}
// CHECK:   "tg.mul"(%[[H]], %[[HALF]])
// CHECK:   scf.yield
// CHECK: "tg.maximum"
// CHECK: "tg.reduce_sum"(%{{.*}}) {axes = array<i64: 0, 1>}
// CHECK: "tg.cast"(%arg2) {dtype = f32} : (tensor<i32>) -> tensor<f32>
// CHECK-NOT: func.func private
module @jit_f attributes {mhlo.num_partitions = 1 : i32} {
  func.func public @main(%arg0: tensor<3x2xf32>, %arg1: tensor<4x3xf32>, %arg2: tensor<i32>) -> (tensor<f32> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %c = stablehlo.constant dense<1> : tensor<i32>
    %c_0 = stablehlo.constant dense<3> : tensor<i32>
    %c_1 = stablehlo.constant dense<0> : tensor<i32>
    %0 = stablehlo.dot_general %arg1, %arg0, contracting_dims = [1] x [0] : (tensor<4x3xf32>, tensor<3x2xf32>) -> tensor<4x2xf32>
    %1 = stablehlo.tanh %0 : tensor<4x2xf32>
    %2:2 = stablehlo.while(%iterArg = %c_1, %iterArg_2 = %1) : tensor<i32>, tensor<4x2xf32>
    cond {
      %8 = stablehlo.compare LT, %iterArg, %c_0, SIGNED : (tensor<i32>, tensor<i32>) -> tensor<i1>
      stablehlo.return %8 : tensor<i1>
    } do {
      %8 = func.call @closed_call(%iterArg_2) : (tensor<4x2xf32>) -> tensor<4x2xf32>
      %9 = stablehlo.add %iterArg, %c : tensor<i32>
      stablehlo.return %9, %8 : tensor<i32>, tensor<4x2xf32>
    }
    %3 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x2xf32>
    %4 = stablehlo.maximum %2#1, %3 : tensor<4x2xf32>
    %5 = stablehlo.reduce(%4 init: %cst) applies stablehlo.add across dimensions = [0, 1] : (tensor<4x2xf32>, tensor<f32>) -> tensor<f32>
    %6 = stablehlo.convert %arg2 : (tensor<i32>) -> tensor<f32>
    %7 = stablehlo.add %5, %6 : tensor<f32>
    return %7 : tensor<f32>
  }
  func.func private @closed_call(%arg0: tensor<4x2xf32>) -> tensor<4x2xf32> {
    %cst = stablehlo.constant dense<5.000000e-01> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x2xf32>
    %1 = stablehlo.multiply %arg0, %0 : tensor<4x2xf32>
    return %1 : tensor<4x2xf32>
  }
}

// -----

// A while that does not count stays a while; case becomes index_switch with the last branch as default.

// CHECK-LABEL: func.func @loop_and_case
// CHECK: scf.while
// CHECK: scf.condition
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: "tg.neg"
// CHECK: default {
// CHECK: "tg.exp"
func.func @loop_and_case(%x: tensor<f32>, %n: tensor<i32>) -> tensor<f32> {
  %0 = stablehlo.while(%a = %x) : tensor<f32>
  cond {
    %lim = stablehlo.constant dense<1.000000e+01> : tensor<f32>
    %p = stablehlo.compare LT, %a, %lim : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %p : tensor<i1>
  } do {
    %two = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %b = stablehlo.multiply %a, %two : tensor<f32>
    stablehlo.return %b : tensor<f32>
  }
  %1 = "stablehlo.case"(%n) ({
    %y = stablehlo.negate %0 : tensor<f32>
    stablehlo.return %y : tensor<f32>
  }, {
    %y = stablehlo.exponential %0 : tensor<f32>
    stablehlo.return %y : tensor<f32>
  }) : (tensor<i32>) -> tensor<f32>
  return %1 : tensor<f32>
}

