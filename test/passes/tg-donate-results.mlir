// RUN: tgraph-opt %s --pass-pipeline='builtin.module(tg-donate-results{func=step pairs=0:1})' | filecheck %s

// Result 1 is returned through argument 0, which becomes writable; result 0 is left alone.
// CHECK-LABEL: func.func @step(%arg0: tensor<4xf32> {bufferization.writable = true}, %arg1: tensor<4xf32>)
// CHECK: %[[N:.*]] = linalg.generic
// CHECK: %[[D:.*]] = bufferization.materialize_in_destination %[[N]] in %arg0
// CHECK: return %{{.*}}, %[[D]]
func.func @step(%p: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<f32>, tensor<4xf32>) {
  %z = tensor.empty() : tensor<f32>
  %c0 = arith.constant 0.0 : f32
  %f = linalg.fill ins(%c0 : f32) outs(%z : tensor<f32>) -> tensor<f32>
  %sum = linalg.reduce ins(%p : tensor<4xf32>) outs(%f : tensor<f32>) dimensions = [0]
    (%in: f32, %acc: f32) { %t = arith.addf %in, %acc : f32
      linalg.yield %t : f32 }
  %e = tensor.empty() : tensor<4xf32>
  %n = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]} ins(%p, %g : tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %sum, %n : tensor<f32>, tensor<4xf32>
}
