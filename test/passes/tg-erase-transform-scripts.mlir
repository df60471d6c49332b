// RUN: tgraph-opt %s --tg-erase-transform-scripts | filecheck %s

// Removes the nested transform script modules and the tg.codegen / tg.planned tags; the payload
// (and a nested module that is no transform script) stays as it is.
// CHECK-LABEL: func.func @f(%arg0: tensor<8xf32>) -> tensor<8xf32>
// CHECK-NEXT: %[[E:.*]] = tensor.empty() : tensor<8xf32>
// CHECK-NEXT: %[[R:.*]] = linalg.generic {{{.*}}iterator_types = ["parallel"]} ins(%arg0 : tensor<8xf32>) outs(%[[E]] : tensor<8xf32>) {
// CHECK-NEXT: ^bb0
// CHECK-NEXT: math.tanh
// CHECK: return %[[R]] : tensor<8xf32>
// CHECK: module @kept {
// CHECK-NEXT: func.func private @g()
// CHECK-NOT: tg.codegen
// CHECK-NOT: tg.planned
// CHECK-NOT: transform.
#id = affine_map<(d0) -> (d0)>
func.func @f(%x: tensor<8xf32>) -> tensor<8xf32> {
  %e = tensor.empty() : tensor<8xf32>
  %0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]} ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) attrs = {tg.codegen = "op0", tg.planned} {
  ^bb0(%in: f32, %out: f32):
    %1 = math.tanh %in : f32
    linalg.yield %1 : f32
  } -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
module @kept {
  func.func private @g()
}
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %ops = transform.structured.match attributes {tg.planned} in %root : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %ops : !transform.any_op
    transform.yield
  }
}
