// RUN: tgraph-opt %s --tg-generate-hessian=func=f | filecheck %s
// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-generate-hessian{func=f out=h}, tg-simplify, canonicalize, cse)' | filecheck %s --check-prefix=NAMED
// RUN: not tgraph-opt %s --tg-generate-hessian=func=g 2>&1 | filecheck %s --check-prefix=NONSCALAR
// RUN: not tgraph-opt %s --tg-generate-hessian='func=f max-inputs=2' 2>&1 | filecheck %s --check-prefix=LIMIT

// f(x) = sum(x^3) on 3 elements: the gradient, its JVP (Hessian-vector products) and the
// Hessian, which calls the HVP once per basis vector e_k and assembles the columns H e_k.
// CHECK-LABEL: func.func @f_grad(
// CHECK-LABEL: func.func @f_hvp(%arg0: tensor<3xf64>, %arg1: tensor<3xf64>) -> tensor<3xf64>
// CHECK-LABEL: func.func @f_hessian(%arg0: tensor<3xf64>) -> tensor<3x3xf64>
// CHECK: "tg.constant"() {value = dense<[1.000000e+00, 0.000000e+00, 0.000000e+00]> : tensor<3xf64>}
// CHECK: call @f_hvp(%arg0, %{{.*}}) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
// CHECK-COUNT-2: call @f_hvp
// CHECK-COUNT-2: "tg.concat"
// CHECK: return %{{.*}} : tensor<3x3xf64>

// out= names the Hessian; one HVP call per basis vector, blocks assembled by concat.
// NAMED-LABEL: func.func @h(%arg0: tensor<3xf64>) -> tensor<3x3xf64>
// NAMED-COUNT-3: call @f_hvp
// NAMED: return

// NONSCALAR: error: tg-generate-hessian: the Hessian needs one scalar floating-point result; @g returns (tensor<3xf64>)
// LIMIT: error: tg-generate-hessian: 3 input elements would need 3 Hessian-vector products (max-inputs=2)
func.func @f(%x: tensor<3xf64>) -> tensor<f64> {
  %0 = "tg.mul"(%x, %x) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  %1 = "tg.mul"(%0, %x) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  %2 = "tg.reduce_sum"(%1) {axes = array<i64: 0>} : (tensor<3xf64>) -> tensor<f64>
  return %2 : tensor<f64>
}

func.func @g(%x: tensor<3xf64>) -> tensor<3xf64> {
  %0 = "tg.mul"(%x, %x) : (tensor<3xf64>, tensor<3xf64>) -> tensor<3xf64>
  return %0 : tensor<3xf64>
}
