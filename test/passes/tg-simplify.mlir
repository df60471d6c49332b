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

// A contraction over dimensions of size 1 (a batched outer product, from vmap of a gradient) is a
// product of broadcasts, its operands reshaped into the result's order (batch, lhs, rhs); a transpose
// where the order of their dimensions larger than 1 changes.
// CHECK-LABEL: func.func @outer
// CHECK-NOT: tg.dot_general
// CHECK: %[[L:.*]] = "tg.reshape"(%arg0) {shape = array<i64: 4, 3, 1>}
// CHECK: %[[LB:.*]] = "tg.broadcast_in_dim"(%[[L]]) {dims = array<i64: 0, 1, 2>, shape = array<i64: 4, 3, 5>}
// CHECK: %[[R:.*]] = "tg.reshape"(%arg1) {shape = array<i64: 4, 1, 5>}
// CHECK: %[[RB:.*]] = "tg.broadcast_in_dim"(%[[R]]) {dims = array<i64: 0, 1, 2>, shape = array<i64: 4, 3, 5>}
// CHECK: "tg.mul"(%[[LB]], %[[RB]])
// A contraction over a dimension larger than 1 stays.
// CHECK: "tg.dot_general"(%arg0, %arg0)
// No contracting dimensions, batch dimensions in another order: a transpose, then the product.
// CHECK: %[[T:.*]] = "tg.transpose"(%arg2) {permutation = array<i64: 1, 0>}
// CHECK: "tg.mul"(%[[T]], %[[T]]) : (tensor<6x2xf32>, tensor<6x2xf32>)
func.func @outer(%a: tensor<4x1x3xf32>, %b: tensor<1x4x5xf32>, %c: tensor<2x6xf32>) -> (tensor<4x3x5xf32>, tensor<3x3xf32>, tensor<6x2xf32>) {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64: 0>, lhs_contract = array<i64: 1>, rhs_batch = array<i64: 1>, rhs_contract = array<i64: 0>} : (tensor<4x1x3xf32>, tensor<1x4x5xf32>) -> tensor<4x3x5xf32>
  %1 = "tg.dot_general"(%a, %a) {lhs_batch = array<i64: 1>, lhs_contract = array<i64: 0>, rhs_batch = array<i64: 1>, rhs_contract = array<i64: 0>} : (tensor<4x1x3xf32>, tensor<4x1x3xf32>) -> tensor<1x3x3xf32>
  %2 = "tg.reshape"(%1) {shape = array<i64: 3, 3>} : (tensor<1x3x3xf32>) -> tensor<3x3xf32>
  %3 = "tg.dot_general"(%c, %c) {lhs_batch = array<i64: 1, 0>, lhs_contract = array<i64>, rhs_batch = array<i64: 1, 0>, rhs_contract = array<i64>} : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<6x2xf32>
  return %0, %2, %3 : tensor<4x3x5xf32>, tensor<3x3xf32>, tensor<6x2xf32>
}

// With a preferred_element_type, each factor is cast to it first: the one product, in that type
// (a bf16 x bf16 product is exact in f32), and the result keeps its type.
// CHECK-LABEL: func.func @outer_preferred
// CHECK-NOT: tg.dot_general
// CHECK: %[[LW:.*]] = "tg.cast"(%arg0) {dtype = f32} : (tensor<3x1xbf16>) -> tensor<3x1xf32>
// CHECK: %[[LB:.*]] = "tg.broadcast_in_dim"(%[[LW]]) {dims = array<i64: 0, 1>, shape = array<i64: 3, 5>}
// CHECK: %[[RW:.*]] = "tg.cast"(%arg1) {dtype = f32} : (tensor<1x5xbf16>) -> tensor<1x5xf32>
// CHECK: %[[RB:.*]] = "tg.broadcast_in_dim"(%[[RW]]) {dims = array<i64: 0, 1>, shape = array<i64: 3, 5>}
// CHECK: %[[P:.*]] = "tg.mul"(%[[LB]], %[[RB]]) : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
// CHECK: return %[[P]] : tensor<3x5xf32>
func.func @outer_preferred(%a: tensor<3x1xbf16>, %b: tensor<1x5xbf16>) -> tensor<3x5xf32> {
  %0 = "tg.dot_general"(%a, %b) {lhs_batch = array<i64>, lhs_contract = array<i64: 1>, rhs_batch = array<i64>, rhs_contract = array<i64: 0>, preferred_element_type = f32} : (tensor<3x1xbf16>, tensor<1x5xbf16>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
