// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-simplify, cse)' | filecheck %s

// Splats fold through shape ops and elementwise ops; x*1, x+0, x-0 are x; 0-x is neg(x).
// CHECK-LABEL: func.func @f(%arg0: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK-NEXT: %[[N:.*]] = "tg.neg"(%arg0)
// CHECK-NEXT: %[[C:.*]] = "tg.splat"() {dtype = f32, shape = array<i64: 2, 3>, value = 2.500000e-01 : f64}
// CHECK-NEXT: return %arg0, %[[N]], %[[C]]
func.func @f(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %one = "tg.splat"() {dtype = f32, shape = array<i64>, value = 1.0 : f64} : () -> tensor<f32>
  %ones = "tg.broadcast_in_dim"(%one) {dims = array<i64>, shape = array<i64: 2, 3>} : (tensor<f32>) -> tensor<2x3xf32>
  %zeros = "tg.splat"() {dtype = f32, shape = array<i64: 2, 3>, value = 0.0 : f64} : () -> tensor<2x3xf32>
  %0 = "tg.mul"(%ones, %x) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = "tg.add"(%0, %zeros) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = "tg.sub"(%zeros, %1) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %four = "tg.splat"() {dtype = f32, shape = array<i64: 2, 3>, value = 4.0 : f64} : () -> tensor<2x3xf32>
  %3 = "tg.div"(%ones, %four) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %1, %2, %3 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// x * 0 is not folded: it is NaN where x is inf or NaN.
// CHECK-LABEL: func.func @keeps_ieee
// CHECK: "tg.mul"
func.func @keeps_ieee(%x: tensor<3xf32>) -> tensor<3xf32> {
  %zeros = "tg.splat"() {dtype = f32, shape = array<i64: 3>, value = 0.0 : f64} : () -> tensor<3xf32>
  %0 = "tg.mul"(%x, %zeros) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
