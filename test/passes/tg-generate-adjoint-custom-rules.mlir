// RUN: tgraph-opt %s --tg-generate-adjoint="func=vjp_rule unit-seed=true" | filecheck %s --check-prefix=VJP
// RUN: tgraph-opt %s --tg-generate-adjoint="func=jvp_rule unit-seed=true" | filecheck %s --check-prefix=JVP
// RUN: tgraph-opt %s --tg-generate-adjoint="func=remat unit-seed=true" | filecheck %s --check-prefix=REMAT
// RUN: not tgraph-opt %s --tg-generate-adjoint="func=not_linear unit-seed=true" 2>&1 | filecheck %s --check-prefix=ERR

// custom_vjp: the forward sweep inlines @fwd (sin and its residual cos), the reverse sweep @bwd
// (2 * cos * seed): the rule, not the derivative of the primal.
// VJP-LABEL: func.func @vjp_rule_grad(%arg0: tensor<3xf32>) -> tensor<3xf32>
// VJP: %[[COS:.*]] = "tg.cos"(%arg0)
// VJP: %[[ONE:.*]] = "tg.splat"() {{.*}}value = 1.0
// VJP: %[[TWO:.*]] = "tg.splat"() {{.*}}value = 2.0
// VJP: %[[A:.*]] = "tg.mul"(%[[TWO]], %[[COS]])
// VJP: %[[B:.*]] = "tg.mul"(%[[A]], %[[ONE]])
// VJP: return %[[B]]
func.func @vjp_rule(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = func.call @sin(%x) {tg.custom_vjp = [@fwd, @bwd]} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func private @sin(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "tg.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func private @fwd(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = "tg.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}
func.func private @bwd(%cos: tensor<3xf32>, %g: tensor<3xf32>) -> tensor<3xf32> {
  %two = "tg.splat"() {dtype = f32, shape = array<i64: 3>, value = 2.0 : f64} : () -> tensor<3xf32>
  %0 = "tg.mul"(%two, %cos) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.mul"(%0, %g) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}

// custom_jvp in reverse mode: the rule's tangent part (t * cos x, linear in t) transposed:
// the seed times cos x.
// JVP-LABEL: func.func @jvp_rule_grad(%arg0: tensor<3xf32>) -> tensor<3xf32>
// JVP: %[[COS:.*]] = "tg.cos"(%arg0)
// JVP: %[[ONE:.*]] = "tg.splat"() {{.*}}value = 1.0
// JVP: %[[G:.*]] = "tg.mul"(%[[ONE]], %[[COS]])
// JVP: return %[[G]]
func.func @jvp_rule(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = func.call @sin(%x) {tg.custom_jvp = @sin_jvp} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func private @sin_jvp(%x: tensor<3xf32>, %t: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = "tg.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "tg.mul"(%t, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %2 : tensor<3xf32>, tensor<3xf32>
}

// A checkpoint: the reverse sweep recomputes the body from a barrier on its argument.
// REMAT-LABEL: func.func @remat_value_and_grad(%arg0: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>)
// REMAT: %[[Y:.*]] = "tg.sin"(%arg0)
// REMAT: %[[B:.*]] = "tg.optimization_barrier"(%arg0)
// REMAT: "tg.cos"(%[[B]])
// REMAT: return %[[Y]]
func.func @remat(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = func.call @sin(%x) {tg.checkpoint_policy = "nothing"} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// A jvp rule that is not linear in its tangent cannot be transposed: an error at the op.
// ERR: tg-generate-adjoint-custom-rules.mlir:[[# @LINE + 7]]:8: error: tg-generate-adjoint: reverse mode through the custom_jvp function @sin transposes its jvp rule @square_jvp, which must be linear in the tangents: tg.mul is not linear in its operand 0, operand 1
func.func @not_linear(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = func.call @sin(%x) {tg.custom_jvp = @square_jvp} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func private @square_jvp(%x: tensor<3xf32>, %t: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %0 = "tg.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "tg.mul"(%t, %t) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<3xf32>, tensor<3xf32>
}
