// What the AD passes do not support is a diagnostic at the op, exit code 1: a function of
// several blocks used to be differentiated through its first block alone (the gradient of
// exp(x) came out as the seed).
// RUN: not tgraph-opt %s --tg-generate-adjoint 2>&1 | filecheck %s
// RUN: not tgraph-opt %s --tg-generate-tangent 2>&1 | filecheck %s --check-prefix=JVP

// CHECK: tg-generate-adjoint-errors.mlir:[[# @LINE + 3]]:3: error: tg-generate-adjoint: cannot differentiate @f: it has 2 blocks joined by 'cf.br'
// JVP: tg-generate-adjoint-errors.mlir:[[# @LINE + 2]]:3: error: tg-generate-tangent: cannot differentiate @f: it has 2 blocks joined by 'cf.br'
func.func @f(%x: tensor<f32>) -> tensor<f32> {
  cf.br ^bb1(%x : tensor<f32>)
^bb1(%y: tensor<f32>):
  %0 = "tg.exp"(%y) : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
